"""The core's select fields draw the same markup as WTForms' own, by a quicker path."""
from __future__ import annotations

import pytest
from wtforms import Form as PlainForm
from wtforms import SelectField as WTFormsSelectField

from wtforms.fields.choices import SelectChoice

from helpdesk.forms import QuickSelect, SelectField, TicketUpdateForm, options

CHOICES = [("", "Nobody"), ("7", 'Ann "the boss" <ann@x>'), ("8", "Bo & Co"), (9, "nine"), ("x", "")]


def both(data, choices=None, **field):
    class Ours(PlainForm):
        pick = SelectField("Pick", choices=choices or options(CHOICES), **field)

    class Theirs(PlainForm):
        pick = WTFormsSelectField("Pick", choices=choices or options(CHOICES), **field)

    return str(Ours(data=data).pick()), str(Theirs(data=data).pick())


@pytest.mark.parametrize("data", [{}, {"pick": "7"}, {"pick": "x"}, {"pick": 9}])
def test_a_select_is_drawn_as_wtforms_draws_it(data):
    ours, theirs = both(data)
    assert ours == theirs
    assert "<option " in ours


def test_options_with_their_own_attributes_and_coerced_values_too():
    ours, theirs = both({"pick": 9}, coerce=str, render_kw={"class": "wide"})
    assert ours == theirs
    marked = [*options(CHOICES), SelectChoice("z", "Zed", render_kw={"disabled": True, "data_x": "1"})]
    ours, theirs = both({"pick": "z"}, choices=marked)
    assert ours == theirs and "disabled" in ours


def test_the_core_forms_use_it(app):
    with app.test_request_context():
        assert isinstance(TicketUpdateForm(formdata=None).department.widget, QuickSelect)
