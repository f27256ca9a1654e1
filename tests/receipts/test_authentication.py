"""Reading Authentication-Results: only our own server's topmost field per authserv-id."""
from receipts_plugin.authentication import aligned, authenticated_from, header_fields, trusted_dkim_domains
from receipts_plugin.trust import trusted_authserv_ids

BODY = b"From: Alice <alice@mail.customer.test>\r\nSubject: Read\r\n\r\nDisplayed.\r\n"


def fields(*lines: str):
    return header_fields("".join(f"{line}\r\n" for line in lines).encode() + BODY)


def test_the_topmost_field_of_each_trusted_id_counts_and_nothing_below_it():
    found = fields("Authentication-Results: mx.desk.test; dkim=pass header.d=first.test",
                   "Authentication-Results: (ours) dkim.desk.test 1; dkim=pass header.i=@second.test",
                   "Received: from outside by mx.desk.test",
                   "Authentication-Results: mx.desk.test; dkim=pass header.d=forged.test",
                   "Authentication-Results: dkim.desk.test; dkim=pass header.d=forged.test")
    assert trusted_dkim_domains(found, ["MX.desk.test", "dkim.desk.test"]) == {"first.test", "second.test"}
    assert trusted_dkim_domains(found, []) == set()


def test_an_unreadable_topmost_field_still_hides_what_the_sender_wrote_below():
    found = fields("Authentication-Results: mx.desk.test; dkim=pass header.d=(((",
                   "Authentication-Results: mx.desk.test; dkim=pass header.d=forged.test")
    assert trusted_dkim_domains(found, ["mx.desk.test"]) == set()


def test_alignment_is_the_signing_domain_or_below_it():
    assert aligned("mail.customer.test", "customer.test") and aligned("customer.test", "Customer.Test.")
    assert not aligned("customer.test", "mail.customer.test") and not aligned("evilcustomer.test", "customer.test")
    raw = b"Authentication-Results: mx.desk.test; dkim=pass header.d=customer.test\r\n" + BODY
    sender = authenticated_from(raw, ["mx.desk.test"])
    assert (sender.address, sender.domain, sender.source) == ("alice@mail.customer.test", "customer.test",
                                                              "authentication-results")


def test_the_setting_takes_a_list_or_one_string():
    assert trusted_authserv_ids("mx1.desk.test, MX2.desk.test mx3") == ("mx1.desk.test", "mx2.desk.test", "mx3")
    assert trusted_authserv_ids(["mx1.desk.test"]) == ("mx1.desk.test",) and trusted_authserv_ids(None) == ()
