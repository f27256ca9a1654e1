"""What gives a non-standard bounce away, and where its returned copy begins.

All patterns are written in lower case and searched in lower-cased text
(case-insensitive matching of large alternations is several times slower).
These are tables, not per-vendor code: a bounce is recognised by who sent it,
its subject, or the sentences of its notice, in the wording of the servers
that write them (Exchange, Exim, qmail, Sendmail, Postfix, Gmail, Yahoo,
Domino, Courier, Amazon SES, Japanese carriers and others).
"""
from __future__ import annotations

import re

from ..linestart import LinePattern
from ..reasons import PhraseTable, split_alternatives

SENDER = re.compile(
    r"(?:mailer[- _]?daemon|post_?master|mail[ ._-]?delivery[ ._-]?(?:system|subsystem)|mail ?administrator|"
    r"mailerdaemon|mail-?daemon|double-bounce|mdaemon|mailer_daemon|nobody@|ndr|no-reply@[^ ]*(?:dion|au|ezweb)|"
    r"bounce[sd]?@|returned|sysadmin@|-admin@|owner-)",

)
SUBJECT = re.compile(
    r"(?:undeliver|undelivered|not (?:be )?delivered|delivery (?:status|fail|failure|problem|notification|report)|"
    r"returned mail|return(?:ed|ing)? to sender|not (?:a )?member|mail delivery fail|failure notice|delivery has failed|"
    r"non[- ]?deliver|nondeliver|could not send|mail system error|message not delivered|"
    r"warning: could not|failed mail|delayed mail|delivery delayed|mail failure|rejected|bounce|not yet been delivered|"
    r"warning: message|delivery warning|message delayed|has been delayed|user unknown|processing error|"
    r"传输失败|投递失败|退信|发送失败|"
    r"permanent error|delivery notification|can't deliver|unable to deliver|unzustellbar|"
    r"nicht zustellbar|non remis|no entregado|non recapitato|niet bezorgd|onbestelbaar|"
    r"não entregue|メールエラー|エラー|配信|返送|недоставлен|не доставлено|sending failed|"
    r"error sending|message status|status of:|notification d'état)",

)
#: Sentences that open the notice of a bounce.
BODY = re.compile(
    r"(?:could not be delivered|couldn't be delivered|was not delivered|wasn't delivered|not be delivered|"
    r"delivery (?:to the following recipients? (?:failed|has been delayed|was unsuccessful)|has failed|failed)|"
    r"did not reach (?:the following|some or all)|undeliverable|unable to deliver|permanent (?:fatal )?error|"
    r"following address(?:es)? (?:had|failed)|the following (?:recipients?|addresses?) (?:failed|had|were|was|could)|"
    r"i'm afraid i wasn't able to deliver|this is the (?:qmail-send|mail delivery|postfix) program|"
    r"was rejected|has been rejected|rejected (?:by|your)|delivery failure|message could not|"
    r"error (?:has )?(?:occurred|delivering)|mail delivery failed|delivery status notification|"
    r"returned to sender|bounced|smtp error|remote (?:host|server) said|failed permanently|"
    r"could not deliver|cannot be delivered|can't be delivered|delivery problem|mail system error|"
    r"konnte nicht zugestellt|n'a pas pu être remis|no se ha podido entregar|non è stato possibile|"
    r"не может быть доставлено|не доставлено|送信できませんでした|配信できません|届きませんでした|"
    r"无法发送|无法送达|无法投递|投递失败|退回|"
    r"error message|failure reasons|returned message|failed addresses|has been returned|intended recipient|"
    r"not yet been delivered|will continue to (?:try|attempt)|delivery attempts will continue|"
    r"not a member of this (?:mailing )?list|unknown user|user unknown|mailbox (?:full|unavailable)|"
    r"not a valid (?:user|recipient|mailbox|address))",

)
#: Where the returned copy of the original begins inside a text body.
SEPARATOR = LinePattern(
    r"^[ \t]*(?:[-=*_ ]{2,}[ \t]*)?(?:"
    r"below this line is a copy of the message|this is a copy of the message|original message(?: follows)?[ \t:.-]*$|"
    r"returned message|the (?:original|returned) message (?:headers )?follows?|message headers follow|"
    r"original message header|headers of the original message|unsent message below|"
    r"the header of the original message is following|a copy of the original message|"
    r"text of the message follows|copy of (?:the )?(?:original|your) message|undelivered message (?:headers )?follows?|"
    r"rejected message|original message (?:headers|text)|message text follows|"
    r"the (?:first|following) \d+ lines of the message|content of the (?:original )?message|"
    r"---- ?start of returned message|included is a copy|original mail as follows|here is a copy of|"
    r"(?:your|the) message reads|first \d+ lines of (?:your|the) (?:original )?message|unsent message|"
    r"以下、?元のメッセージ|元のメッセージ|オリジナルメッセージ"
    r")[^\n]*$",
    re.M,
)

#: A warning that the server is still trying: the message was not returned.
STILL_TRYING = re.compile(
    r"warning message only|this is (?:just |only )?a warning|advisory[- ]only|you do not need to (?:resend|re-send|take any action)|"
    r"no action is required|will (?:continue to )?(?:try|attempt|retry)\b|will be retried|delivery attempts will continue|"
    r"still (?:trying|being retried)|not yet been delivered|is delayed for more than|only a temporary failure report|"
    r"kept in the queue|has been postponed|do not need to re-?send"
)
#: The server gave up: the message was returned, whatever the last attempt's code was.
GAVE_UP = re.compile(
    r"given up|giving up|gave up|permanent(?:ly)? (?:fatal )?(?:error|failure)|failed permanently|not going to try again|"
    r"will not be (?:retried|delivered)|no further (?:attempts|retries)|no more (?:attempts|retries)|retry timeout exceeded|"
    r"removed from the (?:mail )?queue|returning message to sender|returned mail|mail returned|"
    r"could not be delivered for|was not delivered within|not been collected after|delivery failed \d+ attempts|"
    r"maximum (?:delivery )?attempts|after \d+ (?:unsuccessful )?(?:delivery )?attempts?|envelope expired|message expired|"
    r"attempt(?:s|\(s\))? to deliver over (?:a period of )?\d+"
)


#: Servers say whether they gave up in the notice's opening paragraphs.
_OUTCOME_CHARS = 6000
#: Searched as phrase tables (each alternative alone, under its literal anchors): the notice is long,
#: and the whole alternation would be tried at every position of it.
_STILL_TRYING_TABLE = PhraseTable(split_alternatives(STILL_TRYING.pattern))
_GAVE_UP_TABLE = PhraseTable(split_alternatives(GAVE_UP.pattern))


def outcome(subject: str, notice: str) -> str:
    """What the report says happened to the message: ``delayed`` (a warning, delivery goes on),
    ``returned`` (the server gave up) or ``""`` (it does not say)."""
    text = " ".join(f"{subject}\n{notice[:_OUTCOME_CHARS]}".lower().split())  # sentences run across line breaks
    trying = _STILL_TRYING_TABLE.search(text)
    given_up = _GAVE_UP_TABLE.search(text)
    if trying != given_up:
        return "delayed" if trying else "returned"
    return ""

