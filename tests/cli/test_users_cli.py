"""``nocilab users``: add, list, disable, reset-password as a user meets them."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from nocilab import accounts
from nocilab.cli import app, main
from nocilab.model import load_study
from nocilab.store import Store


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                            parallelism=1))
    monkeypatch.delenv("NOCILAB_NEW_PASSWORD", raising=False)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def pw_file(tmp_path):
    path = tmp_path / "pw.txt"
    path.write_text("a long enough secret\n", encoding="utf-8")
    return path


def _store(study_dir):
    return Store.open(load_study(study_dir).database_url(), create=False)


def test_add_list_disable_reset(study_dir, pw_file, capsys, tmp_path):
    code, out, _ = run(capsys, "users", "add", study_dir, "pi", "--role", "admin",
                       "--password-file", pw_file, "--by", "setup")
    assert code == 0 and "added user pi (admin)" in out
    code, out, _ = run(capsys, "users", "add", study_dir, "jk", "--role", "experimenter",
                       "--password-file", pw_file, "--by", "pi")
    assert code == 0
    code, out, _ = run(capsys, "users", "list", study_dir)
    assert code == 0 and "pi" in out and "experimenter" in out and "active" in out
    code, out, _ = run(capsys, "users", "disable", study_dir, "jk", "--reason", "left",
                       "--by", "pi")
    assert code == 0 and "disabled" in out
    code, out, _ = run(capsys, "users", "list", study_dir)
    assert "disabled" in out
    new = tmp_path / "new.txt"
    new.write_text("a different secret\n", encoding="utf-8")
    code, out, _ = run(capsys, "users", "reset-password", study_dir, "pi", "--password-file",
                       new, "--by", "pi")
    assert code == 0 and "new password set for pi" in out
    code, out, _ = run(capsys, "users", "set-role", study_dir, "jk", "viewer", "--by", "pi")
    assert code == 0 and "jk is now viewer" in out
    with _store(study_dir) as store:
        assert accounts.authenticate(store, "pi", "a different secret").role == "admin"
        events = store.audit_events(entity="user")
        assert list(events["action"]) == ["add", "add", "disable", "reset_password", "set_role"]
        assert list(events["actor"]) == ["setup", "pi", "pi", "pi", "pi"]
        assert json.loads(events["after"].iloc[2])["disabled"] is True
    code, out, _ = run(capsys, "audit", "verify", study_dir)
    assert code == 0 and "intact" in out


def test_duplicate_and_unknown_users_are_clear_errors(study_dir, pw_file, capsys):
    assert run(capsys, "users", "add", study_dir, "pi", "--role", "admin",
               "--password-file", pw_file)[0] == 0
    code, _, err = run(capsys, "users", "add", study_dir, "pi", "--role", "viewer",
                       "--password-file", pw_file)
    assert code == 7 and "a user 'pi' already exists" in err and "Traceback" not in err
    for args in (("disable", "ghost"), ("reset-password", "ghost", "--password-file", pw_file),
                 ("set-role", "ghost", "viewer")):
        code, _, err = run(capsys, "users", args[0], study_dir, *args[1:])
        assert code == 7 and "no user 'ghost'" in err and "Traceback" not in err
    code, _, err = run(capsys, "users", "add", study_dir, "amy", "--role", "boss",
                       "--password-file", pw_file)
    assert code == 7 and "expected one of admin, experimenter, analyst, viewer" in err
    code, _, err = run(capsys, "users", "list", study_dir.parent / "nowhere")
    assert code != 0 and "Traceback" not in err


def test_password_prompt_hides_the_input_and_asks_twice(study_dir):
    runner = CliRunner()
    secret = "typed at the prompt"
    result = runner.invoke(app, ["users", "add", str(study_dir), "jk", "--role",
                                 "experimenter"], input=f"{secret}\n{secret}\n")
    assert result.exit_code == 0, result.output
    assert "Password for jk" in result.output and "Repeat for confirmation" in result.output
    assert secret not in result.output  # not echoed
    with _store(study_dir) as store:
        assert accounts.authenticate(store, "jk", secret).username == "jk"
    mismatch = runner.invoke(app, ["users", "reset-password", str(study_dir), "jk"],
                             input="first secret one\nsecond secret two\n"
                                   "third secret 3rd\nthird secret 3rd\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output
    with _store(study_dir) as store:
        assert accounts.authenticate(store, "jk", "third secret 3rd").username == "jk"
