"""The core's tables. Plugins keep their own tables in their own modules."""
from .base import utcnow
from .people import Agent, AgentRole, AgentSession, Contact, Department, agent_departments
from .tickets import (
    Attachment,
    Channel,
    DeliveryState,
    InboundRecord,
    Lease,
    LoginFailure,
    MailboxCheckpoint,
    Message,
    MessageDirection,
    MessageRecipient,
    RecipientRole,
    SendState,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketPriority,
    TicketStatus,
)

__all__ = [
    "Agent", "AgentRole", "AgentSession", "Attachment", "Channel", "Contact", "DeliveryState", "Department",
    "InboundRecord", "Lease", "LoginFailure", "MailboxCheckpoint", "Message", "MessageDirection", "MessageRecipient", "RecipientRole",
    "SendState", "Ticket", "TicketEvent", "TicketEventKind", "TicketPriority", "TicketStatus", "agent_departments", "utcnow",
]
