"""Mail in and out: addresses, composing, sending (SMTP or outbox), and the IMAP intake."""
