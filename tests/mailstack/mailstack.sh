#!/usr/bin/env bash
# mailstack.sh -- a REAL Postfix + Dovecot (+ Pigeonhole Sieve) mail stack on 127.0.0.1 for the
# tests: no mocks, no systemd, nothing under /etc used, nothing leaves loopback. Runs as root
# (Postfix refuses anything else). The Python API in __init__.py drives it; it also works by hand.
#
#   mailstack.sh start DIR                 write the config under DIR, start Dovecot then Postfix,
#                                          wait for their real greetings, write DIR/env
#   mailstack.sh stop DIR                  stop both (SIGTERM by PID, SIGKILL after 10 s)
#   mailstack.sh stop-postfix|start-postfix|stop-dovecot|start-dovecot DIR
#                                          one daemon only, to simulate an outage: same config,
#                                          same ports, same queue and mail store
#
# Ports for 'start' come from the environment: SMTP_PORT IMAP_PORT IMAPS_PORT LMTP_PORT
# (defaults 10025 10143 10993 10024); the other commands read them back from DIR/env.
# Keep DIR short (e.g. mktemp -d /tmp/mailstack.XXXXXX): unix socket paths are limited to ~108 bytes.
set -euo pipefail

DESK_DOMAIN=example.test
CUSTOMER_DOMAIN=customer.test
DESK_USERS="support bounces agent notify"
CUSTOMER_USERS="alice bob carol dave erin"
PASSWORD=secret
REQUIRED_PACKAGES="postfix dovecot-imapd dovecot-lmtpd dovecot-sieve openssl"
INSTALL_HINT="run .ci/install-debian-packages (as root)"

log() { printf '[mailstack %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
elapsed_ms() { echo $(((${EPOCHREALTIME/./} - ${1/./}) / 1000)); }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- checks
preflight() {
  local missing="" p
  for p in $REQUIRED_PACKAGES; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=" $p"
  done
  [[ -z $missing ]] || die "missing Debian packages:$missing; $INSTALL_HINT"
  id -u vmail >/dev/null 2>&1 || die "missing the 'vmail' user; $INSTALL_HINT"
  ((EUID == 0)) || die "must run as root: Postfix's master refuses to start as any other user"
}

# A stale instance on our port would answer the readiness probe, so refuse to start over it.
ports_free() {
  local p
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      log "port 127.0.0.1:$p is already in use"; return 1
    fi
  done
}

# Wait until nothing listens any more: a login process may outlive its master for a moment.
wait_ports_closed() {
  local i
  for ((i = 0; i < 100; i++)); do
    ports_free "$@" 2>/dev/null && return 0
    sleep 0.05
  done
  log "ports $* still open 5 s after stop"; return 1
}

# ---------------------------------------------------------------- readiness (real greetings)
wait_greeting() {  # port expected-prefix: a greeting, not just an open socket
  local port=$1 want=$2 deadline=$((SECONDS + 15)) line
  while ((SECONDS < deadline)); do
    line=$( { exec 3<>"/dev/tcp/127.0.0.1/$port" && IFS= read -r -t 2 l <&3 && printf '%s' "$l"; } 2>/dev/null || true)
    [[ $line == "$want"* ]] && return 0
    sleep 0.05
  done
  log "no '$want' greeting on 127.0.0.1:$port after 15 s"; return 1
}

wait_tls_greeting() {  # port: TLS handshake verified against our CA, then '* OK'
  local port=$1 deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    # -quiet implies -ign_eof: without the LOGOUT s_client waits for Dovecot's 3 min login timeout
    printf 'a LOGOUT\r\n' | timeout 5 openssl s_client -connect "127.0.0.1:$port" \
      -CAfile "$W/tls/cert.pem" -verify_return_error -quiet 2>/dev/null | grep -q '^\* OK' && return 0
    sleep 0.1
  done
  log "no TLS greeting on 127.0.0.1:$port after 15 s"; return 1
}

# ---------------------------------------------------------------- configuration
write_env() {
  local users="" u
  for u in $DESK_USERS; do users+="$u@$DESK_DOMAIN "; done
  for u in $CUSTOMER_USERS; do users+="$u@$CUSTOMER_DOMAIN "; done
  cat > "$W/env" <<EOF
MAILSTACK_DIR=$W
SMTP_HOST=127.0.0.1
SMTP_PORT=$SMTP_PORT
IMAP_HOST=127.0.0.1
IMAP_PORT=$IMAP_PORT
IMAPS_PORT=$IMAPS_PORT
LMTP_PORT=$LMTP_PORT
MAIL_CAFILE=$W/tls/cert.pem
MAIL_PASSWORD=$PASSWORD
MAIL_DESK_DOMAIN=$DESK_DOMAIN
MAIL_CUSTOMER_DOMAIN=$CUSTOMER_DOMAIN
MAIL_USERS="${users% }"
EOF
}

write_tls() {  # self-signed EC cert (much faster than RSA) for IMAPS, IMAP and SMTP STARTTLS
  mkdir -p "$W/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$W/tls/key.pem" -out "$W/tls/cert.pem" 2>/dev/null
  chmod 600 "$W/tls/key.pem"
}

write_dovecot_config() {
  local muid mgid u
  muid=$(id -u vmail); mgid=$(id -g vmail)
  mkdir -p "$W"/{log,dovecot/run,dovecot/state,mail}
  chown vmail:vmail "$W/mail"
  # passwd-file: user:{scheme}password:uid:gid:gecos:home:shell:extra_fields
  : > "$W/dovecot/users"
  for u in $MAIL_USERS; do echo "$u:{PLAIN}$PASSWORD::::::" >> "$W/dovecot/users"; done

  cat > "$W/dovecot/dovecot.conf" <<EOF
# Generated by mailstack.sh -- self-contained, /etc/dovecot is not read
instance_name = mailstack-${W##*/}
hostname = mail.$DESK_DOMAIN
base_dir = $W/dovecot/run
state_dir = $W/dovecot/state
log_path = $W/log/dovecot.log
info_log_path = $W/log/dovecot.log
debug_log_path = $W/log/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <$W/tls/cert.pem
ssl_key = <$W/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $muid
last_valid_uid = $muid
mail_location = maildir:~/Maildir
# inotify wakes IDLE at once; this is only the fallback poll
mailbox_idle_check_interval = 1 secs
# VERP: bounces+TOKEN@ is delivered to bounces@ (Delivered-To keeps the full address)
recipient_delimiter = +
# Pigeonhole sends vacation replies by SMTP through our Postfix; the default (sendmail) would
# read /etc/postfix/main.cf, which does not exist
submission_host = 127.0.0.1:$SMTP_PORT
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $W/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $W/dovecot/users
  default_fields = uid=$muid gid=$mgid home=$W/mail/%d/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
protocol lmtp {
  postmaster_address = postmaster@$DESK_DOMAIN
  mail_plugins = \$mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
EOF
}

write_postfix_config() {
  mkdir -p "$W"/{log,postfix/etc,postfix/spool,postfix/data}
  chown postfix:postfix "$W/postfix/data"   # else: fatal: open lock file .../master.lock: Permission denied
  cat > "$W/postfix/etc/main.cf" <<EOF
# Generated by mailstack.sh -- self-contained instance, /etc/postfix/main.cf is not used
compatibility_level = 3.6
queue_directory = $W/postfix/spool
data_directory = $W/postfix/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
# no syslog here: log to a file through postlogd (the postlog service in master.cf)
maillog_file = $W/log/postfix.log
maillog_file_prefixes = $W/log
myhostname = mail.$DESK_DOMAIN
mydomain = $DESK_DOMAIN
myorigin = $DESK_DOMAIN
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
biff = no
# STARTTLS on the SMTP port, same self-signed cert as Dovecot
smtpd_tls_security_level = may
smtpd_tls_cert_file = $W/tls/cert.pem
smtpd_tls_key_file = $W/tls/key.pem
# Every address in both domains is accepted at RCPT time (empty virtual_mailbox_maps); Dovecot
# decides at LMTP time, so an unknown user gives a real DSN bounce, not an SMTP-time 550.
virtual_mailbox_domains = $DESK_DOMAIN $CUSTOMER_DOMAIN
virtual_mailbox_maps =
smtpd_reject_unlisted_recipient = no
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
# One recipient per LMTP transaction: Dovecot writes Delivered-To (the full VERP address) only
# when a transaction has a single recipient.
lmtp_destination_recipient_limit = 1
recipient_delimiter = +
# never talk to the outside world
default_transport = error:outbound mail disabled in test mail stack
relay_transport = error:outbound mail disabled in test mail stack
disable_dns_lookups = yes
smtp_host_lookup = native
lmtp_host_lookup = native
# fast retries: mail deferred while Dovecot is down is delivered within seconds of its return
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
delay_warning_time = 0
EOF

  # No chroot anywhere (Debian's stock master.cf chroots smtpd & co. into the queue dir).
  cat > "$W/postfix/etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
# Dovecot's LHLO does not announce DSN; flags=X ("final delivery") makes a NOTIFY=SUCCESS
# report say "Action: delivered" instead of "Action: relayed".
lmtp      unix  -       -       n       -       -       lmtp flags=X
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  # The postfix command stalls ~1.5 s when main.cf/master.cf are brand new; back-date them.
  touch -d '-10 seconds' "$W/postfix/etc/main.cf" "$W/postfix/etc/master.cf"
}

# ---------------------------------------------------------------- daemons
start_dovecot() {
  ports_free "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" || return 1
  # Dovecot daemonizes (own session: a Ctrl-C in the test terminal does not reach it) and
  # writes its master PID to base_dir/master.pid.
  rm -f "$W/dovecot/run/master.pid"
  dovecot -c "$W/dovecot/dovecot.conf" >>"$W/log/dovecot.stdout" 2>&1 \
    || { tail -5 "$W/log/dovecot.stdout" >&2; return 1; }
  local i
  for ((i = 0; i < 100; i++)); do [[ -s $W/dovecot/run/master.pid ]] && break; sleep 0.05; done
  cp "$W/dovecot/run/master.pid" "$W/dovecot.pid" || { log "dovecot wrote no master.pid"; return 1; }
  if ! { wait_greeting "$IMAP_PORT" "* OK" && wait_greeting "$LMTP_PORT" "220" \
    && wait_tls_greeting "$IMAPS_PORT"; }; then
    tail -20 "$W/log/dovecot.log" >&2
    return 1
  fi
  log "dovecot ready (pid $(cat "$W/dovecot.pid"))"
}

start_postfix() {
  ports_free "$SMTP_PORT" || return 1
  # 'postfix start' = 'postfix check' (creates the queue dirs) + master -w (daemonizes, waits for
  # its init). It reports fatal errors only to syslog (absent here) or a TTY: on failure, re-run
  # 'postfix check' under script(1) so the reason reaches stderr.
  if ! postfix -c "$W/postfix/etc" start >>"$W/log/postfix.stdout" 2>&1; then
    script -qec "postfix -c '$W/postfix/etc' check" /dev/null >&2 || true
    tail -5 "$W/log/postfix.log" >&2 2>/dev/null || true
    log "postfix start failed"; return 1
  fi
  tr -d ' ' < "$W/postfix/spool/pid/master.pid" > "$W/postfix.pid"
  wait_greeting "$SMTP_PORT" "220" || return 1
  log "postfix ready (master pid $(cat "$W/postfix.pid"))"
}

# kill -0 is no test: PID 1 here reaps orphans lazily (1-2 s), and a zombie still "exists".
running() {
  local state=""
  read -r _ _ state _ < "/proc/$1/stat" 2>/dev/null || return 1
  [[ $state != Z ]]
}

# Both masters call setsid(), so their PID is also their process group. Signalling the group
# stops every child at once: Dovecot's master alone waits ~1 s for its children to exit.
# A child the master spawns just after the signal (an auth worker, say) escapes it and keeps
# the master waiting ~6 s, so stop_pid repeats the signal until the master is gone.
signal_daemon() {  # signal pid
  local pgid
  pgid=$(ps -o pgid= -p "$2" 2>/dev/null | tr -d ' ') || true
  if [[ $pgid == "$2" ]]; then kill "-$1" -- "-$2" 2>/dev/null; else kill "-$1" "$2" 2>/dev/null; fi
}

stop_pid() {  # name pidfile: SIGTERM, then SIGKILL after 10 s
  local name=$1 pid i
  [[ -f $2 ]] || return 0
  pid=$(cat "$2")
  rm -f "$2"
  running "$pid" || return 0
  for ((i = 0; i < 1000; i++)); do
    ((i % 10)) || signal_daemon TERM "$pid"
    sleep 0.01
    running "$pid" || { log "$name (pid $pid) stopped"; return 0; }
  done
  log "$name (pid $pid) still alive after 10 s: SIGKILL"
  signal_daemon KILL "$pid"
}

stop_dovecot() {
  stop_pid dovecot "$W/dovecot.pid"
  wait_ports_closed "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"
}

stop_postfix() {
  stop_pid postfix "$W/postfix.pid"
  wait_ports_closed "$SMTP_PORT"
}

stop_all() {
  local rc=0
  stop_postfix & local p1=$!
  stop_dovecot & local p2=$!
  wait "$p1" || rc=1
  wait "$p2" || rc=1
  return $rc
}

start_all() {
  local t0=$EPOCHREALTIME
  preflight
  ports_free "$SMTP_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" || exit 1
  mkdir -p "$W/log"
  chmod 755 "$W"   # vmail, dovecot and postfix must traverse it (mktemp -d makes it 0700)
  write_env
  # shellcheck source=/dev/null
  . "$W/env"
  write_tls
  write_dovecot_config
  write_postfix_config
  # Dovecot first: Postfix delivers to it
  if ! { start_dovecot && start_postfix; }; then
    stop_all || true
    exit 1
  fi
  log "stack ready in $(elapsed_ms "$t0") ms; settings in $W/env"
}

# ---------------------------------------------------------------- main
usage() { die "usage: $0 start|stop|start-postfix|stop-postfix|start-dovecot|stop-dovecot DIR"; }
(($# == 2)) || usage
W=${2%/}
[[ -d $W ]] || die "no such directory: $W"
if [[ $1 == start ]]; then
  SMTP_PORT=${SMTP_PORT:-10025} IMAP_PORT=${IMAP_PORT:-10143}
  IMAPS_PORT=${IMAPS_PORT:-10993} LMTP_PORT=${LMTP_PORT:-10024}
  start_all
  exit 0
fi
[[ -f $W/env ]] || die "$W/env not found: was the stack started with '$0 start $W'?"
# shellcheck source=/dev/null
. "$W/env"
case $1 in
  stop) stop_all ;;
  start-postfix) start_postfix ;;
  stop-postfix) stop_postfix ;;
  start-dovecot) start_dovecot ;;
  stop-dovecot) stop_dovecot ;;
  *) usage ;;
esac
