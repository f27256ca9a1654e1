"""The check-mark function and the order-independent state machine (pure, no database)."""
import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from receipts_plugin.state import (
    DeliveryEvent,
    RecipientStatus as S,
    RecipientView,
    ReplyStateKind as K,
    explain_reason,
    fold,
    reply_state,
)
from receipts_plugin.explanations import REASONS

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ROLES = ("to", "cc", "bcc")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def oracle(recipients) -> K:
    """The product spec's table, written independently of the implementation. A recipient
    whose mail filter rejected the reply (issue 16) got it no more than one it bounced for."""
    statuses = [s for _, s in recipients]
    if all(s == S.FAILED for s in statuses):
        return K.FAILED
    if all(s in (S.BOUNCED, S.FAILED, S.REJECTED) for s in statuses):
        return K.BOUNCED
    if all(s in (S.UNKNOWN, S.FAILED) for s in statuses):  # our relay accepted it for nobody yet
        return K.NOT_SENT
    if len(recipients) == 1:
        return {S.READ: K.READ, S.DELIVERED: K.DELIVERED, S.DELETED: K.DELIVERED}.get(statuses[0], K.SENT)
    if all(s == S.READ for s in statuses):
        return K.READ_BY_ALL
    if any(role == "to" and s == S.READ for role, s in recipients):
        return K.READ_BY_TO
    if any(role in ("cc", "bcc") and s == S.READ for role, s in recipients):
        return K.READ_BY_CC
    if any(role in ("to", "cc") and s in (S.DELIVERED, S.DELETED) for role, s in recipients):
        return K.DELIVERED
    return K.SENT


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_check_marks_for_every_combination_of_roles_and_statuses(count):
    choices = list(itertools.product(ROLES, list(S)))
    checked = 0
    for combo in itertools.combinations_with_replacement(choices, count):
        views = [RecipientView(role, status, f"r{i}@x.test") for i, (role, status) in enumerate(combo)]
        state = reply_state(views, tracked=True)
        assert state.state is oracle(combo), combo
        assert state.label and state.tooltip.startswith(state.label)
        dead = sum(s in (S.BOUNCED, S.FAILED, S.REJECTED) for _, s in combo)
        assert state.partial_problem == (0 < dead < count)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("recipients, expected, checks, highlight", [
    ([("to", S.DELIVERED)], K.DELIVERED, 1, False),
    ([("to", S.READ)], K.READ, 2, True),
    ([("to", S.SENT)], K.SENT, 0, False),
    ([("to", S.DELIVERED), ("bcc", S.SENT)], K.DELIVERED, 1, False),
    ([("to", S.SENT), ("bcc", S.DELIVERED)], K.SENT, 0, False),
    ([("to", S.DELIVERED), ("cc", S.READ)], K.READ_BY_CC, 2, False),
    ([("to", S.DELIVERED), ("bcc", S.READ)], K.READ_BY_CC, 2, False),
    ([("to", S.READ), ("cc", S.DELIVERED)], K.READ_BY_TO, 2, False),
    ([("to", S.READ), ("cc", S.READ), ("bcc", S.READ)], K.READ_BY_ALL, 2, True),
    ([("to", S.BOUNCED), ("cc", S.FAILED)], K.BOUNCED, 0, False),
    ([("to", S.FAILED), ("cc", S.FAILED)], K.FAILED, 0, False),
])
def test_each_row_of_the_spec_table(recipients, expected, checks, highlight):
    state = reply_state([RecipientView(r, s) for r, s in recipients], tracked=True)
    assert (state.state, state.checks, state.highlight) == (expected, checks, highlight)


def test_replies_sent_before_receipts_were_on_show_nothing():
    state = reply_state([RecipientView("to", S.READ)], tracked=False)
    assert state.state is K.NONE and state.label == ""


def test_partial_bounce_is_a_warning_not_a_label():
    state = reply_state([RecipientView("to", S.DELIVERED, "a@x"), RecipientView("cc", S.BOUNCED, "b@x")], True)
    assert state.state is K.DELIVERED and state.partial_problem and state.problem_count == 1
    assert "Not delivered to 1 of 2: b@x" in state.tooltip


def ev(kind, minute, key=None, **details):
    return DeliveryEvent(kind=kind, at=at(minute), key=key or f"{kind}@{minute}", **details)


EVENT_SETS = {
    "delayed, delivered, read": [ev("smtp-accepted", 0), ev("dsn-delayed", 5, status_code="4.4.1"),
                                 ev("dsn-delivered", 9), ev("mdn-displayed", 30)],
    "bounce then read": [ev("smtp-accepted", 0), ev("dsn-failed", 2, status_code="5.1.1"), ev("mdn-displayed", 60)],
    "refused then delivered after retry": [ev("smtp-refused", 0), ev("smtp-accepted", 10), ev("dsn-delivered", 11)],
    "duplicate keys": [ev("smtp-accepted", 0, "smtp"), ev("smtp-accepted", 0, "smtp"),
                       ev("dsn-delayed", 3, "r1"), ev("dsn-delayed", 3, "r1"), ev("dsn-failed", 50, "r2")],
    "denied receipt": [ev("smtp-accepted", 0), ev("mdn-denied", 20), ev("read-notice-not-read", 25)],
    "read notice and deleted": [ev("smtp-accepted", 0), ev("mdn-deleted", 10), ev("read-notice", 15),
                                ev("mdn-displayed", 40)],
    "delivered, then a filter rejected it": [ev("smtp-accepted", 0), ev("dsn-delivered", 1),
                                             ev("mdn-rejected", 1, diagnostic="I do not accept mail from you.")],
}


@pytest.mark.parametrize("name", EVENT_SETS)
def test_every_permutation_gives_one_state(name):
    events = EVENT_SETS[name]
    states = {fold(order) for order in itertools.permutations(events)}
    assert len(states) == 1


def test_expected_states_of_the_event_sets():
    states = {name: fold(events) for name, events in EVENT_SETS.items()}
    assert states["delayed, delivered, read"].status is S.READ
    assert states["delayed, delivered, read"].delivered_at == at(9)
    bounce_then_read = states["bounce then read"]
    assert bounce_then_read.status is S.READ and bounce_then_read.bounced_at == at(2)  # both facts kept
    assert bounce_then_read.latest_problem.status_code == "5.1.1"
    assert states["refused then delivered after retry"].status is S.DELIVERED
    assert states["duplicate keys"].status is S.BOUNCED and states["duplicate keys"].events_applied == 3
    assert states["denied receipt"].receipt_declined and states["denied receipt"].status is S.DELETED
    assert states["read notice and deleted"].first_read_at == at(15)
    assert states["read notice and deleted"].last_read_at == at(40)
    rejected = states["delivered, then a filter rejected it"]
    assert rejected.status is S.REJECTED and rejected.delivered_at == at(1)  # the server had accepted it
    assert (rejected.latest_problem.kind, rejected.latest_problem.diagnostic) == \
        ("mdn-rejected", "I do not accept mail from you.")


def test_a_filters_rejection_is_a_problem_on_the_reply_like_a_bounce():
    state = reply_state([RecipientView("to", S.READ, "alice@x.test"), RecipientView("cc", S.REJECTED, "bob@x.test")],
                        tracked=True)
    assert (state.state, state.partial_problem, state.problem_count) == (K.READ_BY_TO, True, 1)
    assert "Delivered to 1 of 2: alice@x.test (To). Not delivered to 1 of 2: bob@x.test." in state.tooltip
    alone = reply_state([RecipientView("to", S.REJECTED, "bob@x.test")], tracked=True)
    assert alone.state is K.BOUNCED


def test_an_mdn_implies_delivery():
    state = fold([ev("smtp-accepted", 0), ev("mdn-displayed", 7)])
    assert state.delivered_at == at(7) and state.first_read_at == at(7)


def test_pixel_opens_and_downloads_never_change_the_status():
    assert fold([ev("smtp-accepted", 0), ev("pixel-open", 3), ev("download", 4)]).status is S.SENT


def test_no_events_is_unknown():
    assert fold([]).status is S.UNKNOWN


KINDS = ["smtp-accepted", "smtp-refused", "dsn-delivered", "dsn-delayed", "dsn-failed", "bounce-soft",
         "mdn-displayed", "mdn-deleted", "mdn-rejected", "mdn-dispatched", "mdn-processed", "mdn-denied", "mdn-failed",
         "read-notice", "read-notice-not-read", "pixel-open", "download"]
events_strategy = st.lists(st.builds(lambda k, m, n: ev(k, m, f"{k}:{n}"), st.sampled_from(KINDS),
                                     st.integers(0, 500), st.integers(0, 3)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(events_strategy, st.randoms())
def test_fold_depends_only_on_the_set_of_events(events, rnd):
    shuffled = list(events) + rnd.sample(events, k=len(events) // 2)
    rnd.shuffle(shuffled)
    assert fold(shuffled) == fold(events) == fold(events + events)


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_reason_has_a_plain_explanation(reason):
    text = explain_reason(reason, None)
    assert text and text[0].isupper() and text.endswith(".")


def test_unknown_reason_falls_back_to_the_status_code():
    assert explain_reason(None, "5.1.1") == "A permanent failure: it will not be delivered as it is. The mailbox does not exist."
    assert explain_reason("undefined", "4.2.2").startswith("A temporary problem")
    assert explain_reason("made-up", None) == "No reason was given."
    random.seed(0)


def test_a_delivered_tooltip_names_who_got_it():
    state = reply_state([RecipientView("to", S.DELIVERED, "alice@x"), RecipientView("cc", S.SENT, "bob@x"),
                         RecipientView("bcc", S.READ, "carol@x")], True)
    assert state.state is K.READ_BY_CC
    assert "Delivered to 2 of 3: alice@x (To), carol@x (BCC)." in state.tooltip
    delivered = reply_state([RecipientView("to", S.DELIVERED, "alice@x"), RecipientView("cc", S.SENT, "bob@x"),
                             RecipientView("bcc", S.SENT, "carol@x")], True)
    assert delivered.tooltip == "Delivered. Delivered to 1 of 3: alice@x (To)."


@pytest.mark.parametrize("recipients, counts", [
    ([("to", S.READ)], ""),  # one recipient: the label says it all
    ([("to", S.DELIVERED)], ""),
    ([("to", S.READ), ("cc", S.DELIVERED), ("bcc", S.SENT), ("cc", S.READ)], "2 of 4 read"),
    ([("to", S.DELIVERED), ("bcc", S.READ)], "1 of 2 read"),
    ([("to", S.DELIVERED), ("cc", S.DELETED), ("bcc", S.SENT)], "2 of 3"),
    ([("to", S.READ), ("cc", S.READ)], ""),  # read by all: no "2 of 2" beside "all"
    ([("to", S.SENT), ("cc", S.SENT)], ""),
    ([("to", S.BOUNCED), ("cc", S.FAILED)], ""),
])
def test_several_recipients_label_says_how_many_without_a_tooltip(recipients, counts):
    state = reply_state([RecipientView(r, s, f"r{i}@x") for i, (r, s) in enumerate(recipients)], True)
    assert state.counts == counts


def test_every_event_kind_has_words_for_agents_and_an_unverified_form():
    """A new event kind without words would show agents its raw name in a recipient's history."""
    from receipts_plugin.read_info import EVENT_LABELS, PROBLEM_LABELS
    from receipts_plugin.vocabulary import UNVERIFIED, EventKind

    assert set(EventKind) <= set(EVENT_LABELS)
    assert set(PROBLEM_LABELS) <= set(EventKind)
    reported = [kind for kind in EventKind if not kind.startswith("smtp-")]
    assert all(f"{UNVERIFIED}{kind}" in EVENT_LABELS for kind in reported)
