#!/usr/bin/perl
# Sisimai (Debian's libsisimai-perl) as a reference reader of bounces, for the differential
# oracle (tests/reports/test_sisimai_oracle.py) and the speed anchor (bench/reports.py).
#
# One Perl process for many messages, so start-up is paid once:
#   sisimai_oracle.pl FILE...        one JSON line per file: {"file": F, "results": [{...}, ...]}
#   sisimai_oracle.pl --bench FILE...
#       reads every file into memory and parses each once (warm-up), prints "ready", then for
#       every line "round" on standard input parses all of them again from memory and prints
#       the round's CPU time (user + system) in seconds; ends at end of input.
use strict;
use warnings;
use JSON::PP ();
use Sisimai;

my $json = JSON::PP->new->canonical->utf8(0);

sub results_of {
    my ($text) = @_;
    my $list = Sisimai->make(\$text, 'delivered' => 1) || [];
    my @rows;
    for my $e (@$list) {
        push @rows, {
            'recipient'    => $e->recipient->address // '',
            'action'       => $e->action // '',
            'status'       => $e->deliverystatus // '',
            'reason'       => $e->reason // '',
            'hard'         => ($e->softbounce // -1) == 0 ? JSON::PP::true : JSON::PP::false,
            'replycode'    => $e->replycode // '',
            'feedbacktype' => $e->feedbacktype // '',
            'smtpagent'    => $e->smtpagent // '',
        };
    }
    return \@rows;
}

sub slurp {
    my ($path) = @_;
    open(my $handle, '<:raw', $path) or die "cannot read $path: $!";
    local $/;
    my $text = <$handle>;
    close $handle;
    return $text;
}

binmode STDOUT, ':encoding(UTF-8)';
$| = 1;
if (@ARGV && $ARGV[0] eq '--bench') {
    shift @ARGV;
    my @messages = map { slurp($_) } @ARGV;
    results_of($_) for @messages;
    print "ready\n";
    while (my $line = <STDIN>) {
        my ($user, $system) = times;
        results_of($_) for @messages;
        my ($user2, $system2) = times;
        printf "%.6f\n", ($user2 - $user) + ($system2 - $system);
    }
    exit 0;
}
for my $path (@ARGV) {
    my $rows = eval { results_of(slurp($path)) };
    my $error = $@;
    print $json->encode({ 'file' => $path, 'results' => $rows // [], 'error' => $error ? "$error" : '' }), "\n";
}
