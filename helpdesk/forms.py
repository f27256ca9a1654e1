"""Web forms: shape, lengths and CSRF only. Meaning (required fields, valid addresses,
permissions) is checked by the services, which report every bad field at once; their
errors are shown on these forms by :func:`show_errors`."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, StringField, TextAreaField
from wtforms import SelectField as WTFormsSelectField
from wtforms import ValidationError as FieldError
from wtforms.fields import TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, Select

from .models import AgentRole, Channel, TicketPriority, TicketStatus
from .services.errors import ValidationError
from .text import CONTROL_CHARACTERS_MESSAGE, has_control_characters


def one_line_text(form, field) -> None:
    """The shared validator of one-line fields: no line breaks or control characters, which
    would break the mail headers such text ends up in (subjects, names, addresses)."""
    if field.data and has_control_characters(field.data):
        raise FieldError(CONTROL_CHARACTERS_MESSAGE)


def no_nul(form, field) -> None:
    """Multi-line text may hold line breaks, never a NUL (which PostgreSQL cannot store)."""
    if field.data and "\x00" in field.data:
        raise FieldError("Remove the NUL character: it is not allowed in text.")


def _validator_for(field):
    """The shared control-character validator a text field gets, if any."""
    if isinstance(field, TextAreaField):
        return no_nul
    if isinstance(field, StringField) and not isinstance(field, PasswordField):
        return one_line_text
    return None


class Form(FlaskForm):
    """A form whose text fields are "" (never None) when a request leaves them out, so the
    services always receive strings and a hand-made POST gets messages, not an error; and
    whose one-line text fields refuse control characters (:func:`one_line_text`), and
    multi-line ones NUL (:func:`no_nul`)."""

    def process(self, *args, **kwargs) -> None:
        super().process(*args, **kwargs)
        for field in self:
            if isinstance(field, StringField) and field.data is None:
                field.data = ""

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for field in self:
            if validator := _validator_for(field):
                extra.setdefault(field.name, []).append(validator)
        return super().validate(extra)


def show_errors(form: FlaskForm, error: ValidationError) -> None:
    """Attach a service's per-field errors to the form's fields (unknown fields go to the form)."""
    for name, messages in error.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), *messages]
        else:
            form.form_errors.extend(messages)


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the option objects WTForms 3.3 wants for select and radio fields."""
    return [SelectChoice(value, label) for value, label in pairs]


def _choices(enum_class) -> list[SelectChoice]:
    return options((m.value, m.value.capitalize()) for m in enum_class)


class QuickSelect(Select):
    """WTForms' select with the same markup, its plain options drawn directly: WTForms builds
    each option's attributes through ``html_params`` and string formatting and looks up this
    method's signature on every select it draws, which made the thread page's four selects
    (about 30 options) and the list's (an option per colleague) a tenth of their CPU time."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = choice.value
        if kwargs or choice.render_kw or isinstance(value, bool) or not isinstance(value, (str, int)):
            return super().render_option(choice, **kwargs)
        label = escape(choice.label or value)
        return Markup(f'<option {"selected " if choice.selected else ""}value="{escape(value)}">{label}</option>')

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option  # the current signature (WTForms checks it for old overrides)


class SelectField(WTFormsSelectField):
    widget = QuickSelect()


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


class ReplyForm(Form):
    to = StringField("To")
    cc = StringField("Cc")
    bcc = StringField("Bcc")
    body = TextAreaField("Reply")
    attachments = MultipleFileField("Attachments")
    status = SelectField("Then set status", choices=[*options([("", "Pending (default)")]), *_choices(TicketStatus)])
    send_anyway = BooleanField("Send anyway (to the addresses marked undeliverable above)")


class NoteForm(Form):
    note = TextAreaField("Internal note", validators=[DataRequired(message="Write a note.")])


class TicketUpdateForm(Form):
    # Ids of their own: the reply composer on the same page has a "status" field too, and
    # a label must name its own select.
    status = SelectField("Status", choices=_choices(TicketStatus), id="ticket-status")
    priority = SelectField("Priority", choices=_choices(TicketPriority), id="ticket-priority")
    #: Choices are set per ticket; the service checks the values (an agent of the department).
    assignee = SelectField("Assignee", validate_choice=False)
    department = SelectField("Department", coerce=int, validate_choice=False)


class BulkAssignForm(Form):
    """The ticket list's bulk action; the ticked tickets come as ``tickets`` checkboxes."""

    assign_to = SelectField("Assign the ticked tickets to", validate_choice=False)


class NewTicketForm(Form):
    department = SelectField("Department", coerce=int)
    requester = StringField("Requester email")
    subject = StringField("Subject", validators=[Length(max=500)])
    body = TextAreaField("Description")
    channel = SelectField("Channel", choices=_choices(Channel), default=Channel.PHONE.value)
    priority = SelectField("Priority", choices=_choices(TicketPriority), default=TicketPriority.NORMAL.value)
    attachments = MultipleFileField("Attachments")


class DepartmentForm(Form):
    name = StringField("Name", validators=[Length(max=120)])
    email = StringField("Reply-from address")
    reopen_on_bounce = BooleanField("Reopen a ticket when a reply bounces for every recipient")
    auto_assign = BooleanField("Assign new tickets round-robin (in turn, to its active agents within their working hours)")
    assign_on_reply = BooleanField("A reply by an agent takes an unassigned ticket")


class AgentForm(Form):
    name = StringField("Name", validators=[Length(max=200)])
    email = StringField("Email")
    role = SelectField("Role", choices=_choices(AgentRole))
    department_ids = MultiCheckboxField("Departments", coerce=int)
    timezone = StringField("Time zone", default="UTC")
    work_start = TimeField("Working hours from", default=None, validators=[Optional()])
    work_end = TimeField("to", default=None, validators=[Optional()])
    active = BooleanField("Active (may sign in)", default=True)
    password = PasswordField("Password", description="Leave empty to keep the current password.")
