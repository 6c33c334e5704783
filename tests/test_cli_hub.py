"""The hub's command line takes any password (tests/test_hub*.py need root; this does not).

A random password starts with "-" one time in 64 (secrets.token_urlsafe): passed as
`--password PW`, argparse takes it for an option and account creation fails, which made
`make bench-hub` (and, one run in a few, the hub's tests) stop halfway.
"""

from __future__ import annotations

import re
import sys

import pytest

from _shared import ROOT

sys.path.insert(0, str(ROOT / "hub"))
import hubctl  # noqa: E402
import throwaway  # noqa: E402

PASSWORDS = ["-kSmA9fY6YjAxeRh", "--x", "-", "plain-one", "a b"]


@pytest.mark.parametrize("role", ["student", "teacher"])
@pytest.mark.parametrize("password", PASSWORDS)
def test_the_throwaway_hub_s_arguments_keep_the_password(role, password):
    args = hubctl.make_parser().parse_args(throwaway.add_args(role, "alice", password))
    assert (args.command, args.name, args.password) == (f"add-{role}", "alice", password)


def test_the_old_form_fails_on_a_leading_dash():
    """The control: the form the bug used is refused, so the test above tests something."""
    with pytest.raises(SystemExit):
        hubctl.make_parser().parse_args(["add-student", "alice", "--password", "-kSmA9fY6YjAxeRh"])


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_make_hub_add_passes_the_password_glued_to_its_option(role):
    recipe = re.search(rf"^hub-add-{role}:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, f"no hub-add-{role} target"
    assert "--password='$(PASSWORD)'" in recipe.group(1), recipe.group(1)
