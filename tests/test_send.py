"""culturebook share --send (mail.py) against a real SMTP server on 127.0.0.1 (aiosmtpd, tests/smtpkit):
messages parsed back, attachments byte-identical to build/<lang>/share/, personalised booklets to
their owners, Chinese names and subjects decoded; and the faults: a refused login, no server, a 552
for one recipient, a dropped connection, a run killed halfway and run again. Nobody ever gets a
second copy."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from culturebook.pdf.structure import read_structure
from culturebook.share.deliveries import Delivery
from culturebook.share.mail import Retry, Server, send_all
from projectkit import PROJECTS, assert_refused, run_cli
from smtpkit import PASSWORD, USER, free_port, line_faults
from smtpkit import Server as SMTPServer

# aiosmtpd warns (rightly) when it takes a login without TLS; the test server is on 127.0.0.1.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PEOPLE = """name,email,language
Ana Silva,ana@example.com,en
韩梅梅,han.meimei@example.com,zh-Hans
José Núñez,jose@example.com,en
"""
EN_BOOKLET = "Example-Co-Culture-Booklet-2024-en.pdf"
ZH_BOOKLET = "示例公司文化-手册-2024-zh-Hans.pdf"
LOG = "share-sent.jsonl"


@pytest.fixture
def project(shared, tmp_path) -> Path:
    """The shared project, with no send log yet, and the people to send to in people.csv."""
    (shared / "build" / LOG).unlink(missing_ok=True)
    (tmp_path / "people.csv").write_text(PEOPLE, encoding="utf-8")
    yield shared
    (shared / "build" / LOG).unlink(missing_ok=True)


def send(root: Path, port: int, *args: str, env: dict | None = None,
         people: Path | None = None) -> subprocess.CompletedProcess:
    """`culturebook share --send` to the test server, as a user runs it."""
    recipients = ("--recipients", str(people)) if people else ()
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        return run_cli("share", "--send", *recipients, "--host", "127.0.0.1", "--port", str(port),
                       "--security", "none", "--retry-wait", "0", *args, cwd=root)
    finally:
        os.environ.clear()
        os.environ.update(old)


def log_lines(root: Path) -> list[dict]:
    path = root / "build" / LOG
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] \
        if path.is_file() else []


def pdfs(message) -> dict[str, bytes]:
    return {a.get_filename(): a.get_content() for a in message.iter_attachments()
            if a.get_content_type() == "application/pdf"}


def test_each_recipient_gets_their_own_booklet_in_their_language(project, tmp_path):
    with SMTPServer() as server:
        result = send(project, server.port, people=tmp_path / "people.csv")
        box = server.mailbox
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"sent 3 messages, 0 already sent, 0 failed (build/{LOG})"
    share = {lang: project / "build" / lang / "share" for lang in ("en", "zh-Hans")}
    [ana], [han], [jose] = (box.messages_to(a) for a in
                            ("ana@example.com", "han.meimei@example.com", "jose@example.com"))
    assert ana["Subject"] == "Our culture, for Ana Silva"
    assert han["Subject"] == "示例公司文化：送给韩梅梅"
    assert str(han["To"]) == "韩梅梅 <han.meimei@example.com>"
    assert jose["To"].addresses[0].display_name == "José Núñez"
    assert ana["X-Unsent"] is None and ana["Date"] is not None
    assert "Dear Ana Silva," in ana.get_body(("plain",)).get_content()
    assert "韩梅梅，你好：" in han.get_body(("plain",)).get_content()
    # The booklet is each person's own; the posters are everyone's; all byte for byte as built.
    assert pdfs(ana)[EN_BOOKLET] == (share["en"] / "personalised" / "ana-silva.pdf").read_bytes()
    assert pdfs(jose)[EN_BOOKLET] == (share["en"] / "personalised" / "jose-nunez.pdf").read_bytes()
    assert pdfs(han)[ZH_BOOKLET] == (share["zh-Hans"] / "personalised" / "han-meimei.pdf").read_bytes()
    # Each is tagged for a screen reader, with that person's letter in its structure.
    mailed = read_structure(PdfReader(io.BytesIO(pdfs(ana)[EN_BOOKLET])))
    assert mailed.marked and mailed.untagged == {} and (2, "Welcome, Ana Silva") in mailed.headings
    for name, data in pdfs(han).items():
        if name != ZH_BOOKLET:
            assert data == (share["zh-Hans"] / name).read_bytes()
    assert list(pdfs(han)) == [ZH_BOOKLET, "示例公司文化-海报-使命-愿景-2024-zh-Hans.pdf",
                               "示例公司文化-海报-用心-2024-zh-Hans.pdf",
                               "示例公司文化-海报-坦诚-2024-zh-Hans.pdf",
                               "示例公司文化-海报-匠心-2024-zh-Hans.pdf"]
    # The log has each message as it was accepted, by its Message-ID.
    assert [(e["to"], e["message_id"]) for e in log_lines(project)] == [
        (m["To"].addresses[0].addr_spec, m["Message-ID"]) for m in (ana, han, jose)]


def test_a_second_run_sends_nobody_a_second_copy(project, tmp_path):
    with SMTPServer() as server:
        assert send(project, server.port, people=tmp_path / "people.csv").returncode == 0
        again = send(project, server.port, people=tmp_path / "people.csv")
        assert server.mailbox.count() == 3
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == f"sent 0 messages, 3 already sent, 0 failed (build/{LOG})"
    listed = run_cli("share", "--recipients", str(tmp_path / "people.csv"), cwd=project).stdout
    assert [line.split(" (")[0] for line in listed.splitlines() if "@" in line] == [
        "already sent: ana@example.com", "already sent: han.meimei@example.com",
        "already sent: jose@example.com"]
    assert listed.splitlines()[-1] == "dry run: 0 messages to send, 3 already sent; add --send to send them"


def test_without_send_it_lists_who_would_get_what_and_sends_nothing(project, tmp_path):
    with SMTPServer() as server:
        result = run_cli("share", "--recipients", str(tmp_path / "people.csv"), cwd=project)
        assert server.mailbox.count() == 0
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    would = [line for line in lines if line.startswith("would send: ")]
    assert [w.split(" (")[0] for w in would] == ["would send: ana@example.com",
                                                  "would send: han.meimei@example.com",
                                                  "would send: jose@example.com"]
    posters = ", ".join(f"示例公司文化-海报-{p}-2024-zh-Hans.pdf"
                        for p in ("使命-愿景", "用心", "坦诚", "匠心"))
    assert would[1].endswith(f"): {ZH_BOOKLET}, {posters}")
    assert "(zh-Hans, message 1/1, " in would[1]
    assert lines[-1] == "dry run: 3 messages to send, 0 already sent; add --send to send them"
    assert not (project / "build" / LOG).exists()


def test_to_sends_the_first_edition_to_each_address(project):
    with SMTPServer() as server:
        result = send(project, server.port, "--to", "lei@example.com", "--to", "mei@example.com")
        [lei] = server.mailbox.messages_to("lei@example.com")
        assert len(server.mailbox.messages_to("mei@example.com")) == 1
    assert result.returncode == 0, result.stderr
    assert lei["Subject"] == "Our culture"
    assert pdfs(lei)[EN_BOOKLET] == (project / "build/en/share" / EN_BOOKLET).read_bytes()


def test_a_refused_login_stops_with_one_line(project, tmp_path):
    with SMTPServer(auth=True) as server:
        result = send(project, server.port, people=tmp_path / "people.csv",
                      env={"CULTUREBOOK_SMTP_USER": USER, "CULTUREBOOK_SMTP_PASSWORD": "wrong"})
        assert server.mailbox.count() == 0
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines == [
        f"smtp: 127.0.0.1:{server.port} refused the login of 'culture': 535 5.7.8 Authentication "
        "credentials invalid",
        "    hint: check CULTUREBOOK_SMTP_USER and CULTUREBOOK_SMTP_PASSWORD",
        "stopped: 0 of 3 messages sent so far (build/share-sent.jsonl); run the same command "
        "again to send the rest"]


def test_the_login_comes_from_the_environment(project, tmp_path):
    with SMTPServer(auth=True) as server:
        result = send(project, server.port, people=tmp_path / "people.csv",
                      env={"CULTUREBOOK_SMTP_USER": USER, "CULTUREBOOK_SMTP_PASSWORD": PASSWORD})
        assert server.mailbox.count() == 3
    assert result.returncode == 0, result.stderr
    help_text = run_cli("share", "--help", cwd=project).stdout
    assert "CULTUREBOOK_SMTP_USER" in help_text and "CULTUREBOOK_SMTP_PASSWORD" in help_text
    assert "--password" not in help_text and "--user" not in help_text


def test_a_server_that_wants_a_login_and_gets_none_stops_with_one_line(project, tmp_path):
    with SMTPServer(auth=True) as server:
        result = send(project, server.port, people=tmp_path / "people.csv")
    assert result.returncode == 1
    first = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")][0]
    assert first == (f"smtp: 127.0.0.1:{server.port} refused the sender: 530 5.7.0 Authentication "
                     "required")


def test_no_server_is_one_line_after_the_retries(project, tmp_path):
    port = free_port()
    result = send(project, port, "--retries", "1", people=tmp_path / "people.csv")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines == [
        f"ana@example.com (en, message 1/1): cannot connect to 127.0.0.1:{port}: Connection "
        "refused; trying again in 0 s",
        f"smtp: cannot connect to 127.0.0.1:{port}: Connection refused",
        "    hint: check share: smtp: host: and port: (or --host and --port), and that the server "
        "is up",
        "stopped: 0 of 3 messages sent so far (build/share-sent.jsonl); run the same command "
        "again to send the rest"]
    assert log_lines(project) == []


def test_a_552_for_one_recipient_is_reported_and_the_others_are_sent(project, tmp_path):
    with SMTPServer() as server:
        server.mailbox.reject["han.meimei@example.com"] = "552 5.3.4 Message too big for this mailbox"
        result = send(project, server.port, people=tmp_path / "people.csv")
        sent = [rcpts[0] for rcpts, _ in server.mailbox.accepted]
    assert result.returncode == 1
    assert sent == ["ana@example.com", "jose@example.com"]
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines == [
        f"han.meimei@example.com: not sent: 127.0.0.1:{server.port} refused the message: 552 5.3.4 "
        "Message too big for this mailbox",
        "sent 2 messages, 0 already sent, 1 failed (build/share-sent.jsonl)"]
    # Once the mailbox takes it, a second run sends only that message.
    with SMTPServer() as server:
        again = send(project, server.port, people=tmp_path / "people.csv")
        assert [rcpts[0] for rcpts, _ in server.mailbox.accepted] == ["han.meimei@example.com"]
    assert again.returncode == 0, again.stderr


def test_a_connection_dropped_mid_batch_is_retried_and_nobody_gets_two(project, tmp_path):
    with SMTPServer() as server:
        server.mailbox.drop_on = {2}  # the second message's DATA: the line drops, nothing accepted
        result = send(project, server.port, people=tmp_path / "people.csv")
        got = sorted(rcpts[0] for rcpts, _ in server.mailbox.accepted)
    assert result.returncode == 0, result.stderr
    assert got == ["ana@example.com", "han.meimei@example.com", "jose@example.com"]
    assert (f"han.meimei@example.com (zh-Hans, message 1/1): the connection to 127.0.0.1:"
            f"{server.port} dropped") in result.stderr


@pytest.mark.interruption
def test_a_run_killed_mid_batch_and_run_again_gives_everyone_one_copy(project, tmp_path):
    people = tmp_path / "many.csv"
    rows = [f"Person {i},person{i}@example.com,en" for i in range(6)]
    people.write_text("name,email,language\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with SMTPServer() as server:
        server.mailbox.hold_mail_on = {3}  # killed as the third message begins: two are sent
        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
        run = subprocess.Popen([sys.executable, "-m", "culturebook", "share", "--send", "--recipients",
                                str(people), "--host", "127.0.0.1", "--port", str(server.port),
                                "--security", "none"], cwd=project, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert server.mailbox.held.wait(timeout=300)
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait()
        server.mailbox.release.set()
        assert run.returncode == -signal.SIGKILL
        assert server.mailbox.count() == 2 and len(log_lines(project)) == 2
        again = send(project, server.port, people=people)
        assert again.returncode == 0, again.stderr
        got = sorted(rcpts[0] for rcpts, _ in server.mailbox.accepted)
    assert got == sorted(f"person{i}@example.com" for i in range(6))
    assert "2 already sent" in again.stdout.splitlines()[-1]


@pytest.mark.interruption
def test_ctrl_c_mid_batch_says_how_far_it_got(project, tmp_path):
    people = tmp_path / "many.csv"
    rows = [f"Person {i},person{i}@example.com,en" for i in range(4)]
    people.write_text("name,email,language\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with SMTPServer() as server:
        server.mailbox.hold_mail_on = {2}  # Ctrl-C as the second message begins
        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
        # A test run in a background job starts with SIGINT ignored: let the sender hear it.
        run = subprocess.Popen([sys.executable, "-m", "culturebook", "share", "--send", "--recipients",
                                str(people), "--host", "127.0.0.1", "--port", str(server.port),
                                "--security", "none"], cwd=project, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            assert server.mailbox.held.wait(timeout=300)
        finally:
            run.send_signal(signal.SIGINT)
            server.mailbox.release.set()  # the message on its way is finished, then the run stops
            _, stderr = run.communicate(timeout=60)
        sent = server.mailbox.count()
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert sent == 2
    assert stderr.splitlines()[-1] == (f"interrupted: 2 of 4 messages sent so far "
                                       f"(build/{LOG}); run the same command again to send the rest")
    assert len(log_lines(project)) == 2


def six_people(tmp_path: Path) -> Path:
    people = tmp_path / "six.csv"
    rows = [f"Person {i},person{i}@example.com,en" for i in range(6)]
    people.write_text("name,email,language\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return people


def start_sending(root: Path, port: int, people: Path) -> subprocess.Popen:
    """`culturebook share --send` started as a user starts it, so that Ctrl-C (SIGINT) reaches it."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    # A test run in a background job starts with SIGINT ignored: let the sender hear it.
    return subprocess.Popen([sys.executable, "-m", "culturebook", "share", "--send", "--recipients",
                             str(people), "--host", "127.0.0.1", "--port", str(port),
                             "--security", "none"], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def line_starting(stream, start: str) -> str:
    """The first line read from `stream` that starts with `start`; "" if the stream ends first."""
    for line in iter(stream.readline, ""):
        if line.startswith(start):
            return line.rstrip("\n")
    return ""


def recipients_of(box) -> list[str]:
    return [rcpts[0] for rcpts, _ in box.accepted]


EVERYONE = [f"person{i}@example.com" for i in range(6)]
FINISHING = ("stopping once the server has answered for person1@example.com (en, message 1/1); "
             "Ctrl-C again stops at once")


@pytest.mark.interruption
def test_ctrl_c_while_the_server_answers_lets_that_message_finish_and_nobody_gets_two(project,
                                                                                      tmp_path):
    people = six_people(tmp_path)
    with SMTPServer() as server:
        box = server.mailbox
        box.hold_on = {2}  # the second message is received; its reply waits for the test
        with start_sending(project, server.port, people) as run:
            try:
                assert box.held.wait(timeout=300)
                run.send_signal(signal.SIGINT)
                notice = line_starting(run.stderr, "stopping once")
                box.release.set()
                stderr = run.stderr.read()
                run.wait(timeout=120)
            finally:
                box.release.set()
                if run.poll() is None:
                    run.kill()
        assert notice == FINISHING
        assert run.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert stderr.splitlines()[-1] == (f"interrupted: 2 of 6 messages sent so far (build/{LOG}); "
                                           "run the same command again to send the rest")
        assert recipients_of(box) == EVERYONE[:2]
        assert [(e["to"], "in_doubt" in e) for e in log_lines(project)] == [
            (EVERYONE[0], False), (EVERYONE[1], False)]
        again = send(project, server.port, people=people)
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines()[-1] == f"sent 4 messages, 2 already sent, 0 failed (build/{LOG})"
        assert recipients_of(box) == EVERYONE  # the second message once, not again


@pytest.mark.interruption
def test_a_second_ctrl_c_stops_at_once_and_the_message_is_in_doubt_until_resent(project, tmp_path):
    people = six_people(tmp_path)
    with SMTPServer() as server:
        box = server.mailbox
        box.hold_on = {2}
        with start_sending(project, server.port, people) as run:
            try:
                assert box.held.wait(timeout=300)
                run.send_signal(signal.SIGINT)
                notice = line_starting(run.stderr, "stopping once")
                run.send_signal(signal.SIGINT)  # the server still holds its reply
                stderr = run.stderr.read()
                run.wait(timeout=120)
            finally:
                box.release.set()
                if run.poll() is None:
                    run.kill()
        assert notice == FINISHING
        assert run.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert stderr.splitlines()[-1] == (f"interrupted: 1 of 6 messages sent so far, 1 in doubt "
                                           f"(build/{LOG}); run the same command again to send the "
                                           "rest")
        assert [(e["to"], e.get("in_doubt", False)) for e in log_lines(project)] == [
            (EVERYONE[0], False), (EVERYONE[1], True)]
        # The server did get it: a run that sent it again would give person1 a second copy.
        again = send(project, server.port, people=people)
        assert again.returncode == 1
        assert recipients_of(box) == EVERYONE
        doubt = [line for line in again.stderr.splitlines() if "in doubt" in line]
        assert doubt == [
            "person1@example.com (en, message 1/1): not sent: in doubt, a run stopped while the "
            "server was answering may have sent it; --resend-in-doubt sends it",
            f"sent 4 messages, 1 already sent, 0 failed, 1 in doubt (build/{LOG})"]
        listed = run_cli("share", "--recipients", str(people), cwd=project)
        assert listed.stdout.splitlines()[-1] == ("dry run: 0 messages to send, 5 already sent, "
                                                  "1 in doubt; add --send to send them")
        resent = send(project, server.port, "--resend-in-doubt", people=people)
        assert resent.returncode == 0, resent.stderr
        assert resent.stdout.splitlines()[-1] == f"sent 1 message, 5 already sent, 0 failed (build/{LOG})"
        assert recipients_of(box) == [*EVERYONE, EVERYONE[1]]
        assert send(project, server.port, people=people).stdout.splitlines()[-1] == \
            f"sent 0 messages, 6 already sent, 0 failed (build/{LOG})"


def test_send_needs_someone_to_send_to(project):
    result = run_cli("share", "--send", cwd=project)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "Error: --send needs --to ADDR or --recipients CSV"
    bad = run_cli("share", "--to", "not-an-address", cwd=project)
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1] == ("Error: Invalid value for --to: 'not-an-address' is not an "
                                          "email address")


def test_sending_without_a_server_named_is_a_usage_error(project):
    settings = project / "content" / "publication.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("    host: 127.0.0.1\n", ""), encoding="utf-8")
    try:
        result = run_cli("share", "--send", "--to", "lei@example.com", cwd=project)
    finally:
        settings.write_text(text, encoding="utf-8")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == ("Error: no SMTP server: set share: smtp: host: in "
                                             "content/publication.yaml or pass --host")
    assert not (project / "build" / LOG).exists()


def test_a_row_without_an_address_is_one_line_at_its_place_and_the_others_are_sent(project, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("name,email,language\nAna Silva,ana@example.com,en\nNo Mail,,en\n",
                      encoding="utf-8")
    with SMTPServer() as server:
        result = send(project, server.port, people=people)
        assert [rcpts[0] for rcpts, _ in server.mailbox.accepted] == ["ana@example.com"]
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines[0] == f"{people}:3:1: No Mail has no email address: nobody to send to"


def test_a_name_with_a_line_break_is_one_line_at_its_row_and_nobody_gets_a_header_from_it(
        project, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text('name,email,language\nAna Silva,ana@example.com,en\n'
                      '"Eve\nBcc: someone@example.com",eve@example.com,en\n', encoding="utf-8")
    with SMTPServer() as server:
        result = send(project, server.port, people=people)
        accepted = list(server.mailbox.accepted)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines[:2] == [
        f"{people}:3:1: the name 'Eve\\nBcc: someone@example.com' holds a line break",
        "    hint: a name or address goes into mail headers, file names and CSV files: keep it on "
        "one line, without control characters"]
    assert [rcpts for rcpts, _ in accepted] == [["ana@example.com"]]
    assert b"someone@example.com" not in accepted[0][1]


def test_every_line_of_every_message_sent_is_within_what_strict_servers_accept(project, tmp_path):
    with SMTPServer() as server:
        result = send(project, server.port, people=tmp_path / "people.csv")
        accepted = list(server.mailbox.accepted)
    assert result.returncode == 0, result.stderr
    assert len(accepted) == 3
    for rcpts, data in accepted:
        assert line_faults(data) == [], rcpts


def test_a_built_pdf_changed_since_the_build_is_never_attached(project, tmp_path):
    booklet = project / "build" / "en" / "personalised" / "ana-silva.pdf"
    built = booklet.read_bytes()
    booklet.write_bytes(built + b"% changed after the build\n")  # still a PDF a reader opens
    try:
        with SMTPServer() as server:
            result = send(project, server.port, people=tmp_path / "people.csv")
            assert server.mailbox.count() == 0
    finally:
        booklet.write_bytes(built)
    assert_refused(result, "build/en/personalised/ana-silva.pdf: has changed since it was built (its "
                   "sha256 is not the one in build/manifest.json); it is not sent",
                   "build it again: culturebook build personalised --recipients with your CSV")
    assert not (project / "build" / LOG).exists()


# --- TLS -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    """A certificate authority of the test's own, trusted by the sending process via SSL_CERT_FILE."""
    import trustme

    ca = trustme.CA()
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return ca, pem


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_starttls_and_implicit_tls_with_a_login(project, tmp_path, authority, security):
    ca, pem = authority
    with SMTPServer(auth=True, tls="starttls" if security == "starttls" else "implicit",
                    authority=ca) as server:
        result = send(project, server.port, "--security", security, "--to", "lei@example.com",
                      env={"SSL_CERT_FILE": str(pem), "CULTUREBOOK_SMTP_USER": USER,
                           "CULTUREBOOK_SMTP_PASSWORD": PASSWORD})
        assert len(server.mailbox.messages_to("lei@example.com")) == 1
    assert result.returncode == 0, result.stderr


def test_a_certificate_nobody_vouches_for_stops_with_one_line(project, authority):
    ca, _ = authority
    with SMTPServer(tls="implicit", authority=ca) as server:
        result = send(project, server.port, "--security", "tls", "--to", "lei@example.com")
        assert server.mailbox.count() == 0
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines[:2] == [
        f"smtp: 127.0.0.1:{server.port}: the server's certificate is not trusted (unable to get "
        "local issuer certificate)",
        "    hint: for a server with a private certificate authority, point SSL_CERT_FILE at that "
        "authority's certificate"]


def test_starttls_to_a_server_without_it_stops_with_one_line(project):
    with SMTPServer() as server:
        result = send(project, server.port, "--security", "starttls", "--to", "lei@example.com")
        assert server.mailbox.count() == 0
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines[0] == f"smtp: 127.0.0.1:{server.port} does not offer STARTTLS"


# --- retries, in process --------------------------------------------------------------------------


class _Busy:
    """A server answering 451 (try again later) to the first `times` messages."""

    def __init__(self, times: int):
        self.times = times

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.times:
            self.times -= 1
            return "451 4.3.0 Try again later"
        return "250 OK"


def test_transient_failures_wait_longer_each_time(tmp_path):
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(_Busy(3), hostname="127.0.0.1", port=port)
    controller.start()
    waits, events = [], []
    try:
        delivery = Delivery("a@example.com", "en", 1, 1, "<x@example.com>", ("a.pdf",),
                            b"Subject: x\r\n\r\nhello\r\n")
        outcome = send_all([delivery], "me@example.com", Server("127.0.0.1", port, "none"),
                           tmp_path / "log.jsonl", lambda e, d, x: events.append(e),
                           Retry(attempts=4, first=0.5, cap=1.5), sleep=waits.append)
    finally:
        controller.stop()
    assert waits == [0.5, 1.0, 1.5]  # doubled each time, up to the cap
    assert events == ["retry", "retry", "retry", "sent"]
    assert [d.message_id for d in outcome.sent] == ["<x@example.com>"]


def test_a_recipient_whose_own_booklet_is_over_budget_is_left_out_with_a_line():
    from culturebook.share.deliveries import Person, plan_deliveries
    from culturebook.share.drafts import EditionShare, Settings
    from culturebook.share.message import Attachment, Letter

    shared = (Attachment("Booklet.pdf", b"%PDF small" * 100, "en/share/Booklet.pdf"),
              Attachment("Poster.pdf", b"%PDF poster" * 100, "en/share/Poster.pdf"))
    own = Attachment("Booklet.pdf", bytes(200 * 1024), "en/share/personalised/ana.pdf")
    share = EditionShare("en", Letter("Our culture, for {name}", "Dear {name},", "en"), shared,
                         {"ana@example.com": own}, b"png", lambda *_: "<p>x</p>", "stem", (),
                         0, 0, booklet=0)
    people = [Person("ANA@example.com", "Ana", "en"), Person("jose@example.com", "José", "en")]
    deliveries, failed = plan_deliveries([share], Settings(budget=128 * 1024), people, "")
    assert [(d.to, d.files) for d in deliveries] == [("jose@example.com", ("Booklet.pdf", "Poster.pdf"))]
    assert failed == ["ANA@example.com: not sent: en: the message is 278 KB as sent, over the share "
                      "budget of 128 KB; largest: Booklet.pdf 274 KB, Poster.pdf 2 KB; 1 of the 2 "
                      "files would fit (Poster.pdf)"]


def test_the_rate_limit_spaces_the_messages(tmp_path):
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(_Busy(0), hostname="127.0.0.1", port=port)
    controller.start()
    waits = []
    try:
        deliveries = [Delivery(f"{n}@example.com", "en", 1, 1, f"<{n}@example.com>", ("a.pdf",),
                               b"Subject: x\r\n\r\nhello\r\n") for n in ("a", "b", "c")]
        outcome = send_all(deliveries, "me@example.com", Server("127.0.0.1", port, "none"),
                           tmp_path / "log.jsonl", rate=30, sleep=waits.append)
    finally:
        controller.stop()
    assert len(outcome.sent) == 3
    # 30 a minute: before each message after the first, a wait of what is left of 2 seconds.
    assert len(waits) == 2 and all(0 < w <= 2.0 for w in waits)


# --- recipients and their own booklets --------------------------------------------------------------


def test_a_chinese_name_in_an_english_only_project_gets_their_own_booklet(english_only):
    """王堃's row was once refused by the build and then sent the generic booklet without a word:
    now the theme's Chinese font sets the name and the booklet sent is theirs."""
    with SMTPServer() as server:
        result = send(english_only, server.port, people=PROJECTS / "english-only" / "people.csv")
        box = server.mailbox
    assert result.returncode == 0, result.stderr
    [wang] = box.messages_to("wang.kun@example.com")
    assert str(wang["To"]) == "王堃 <wang.kun@example.com>"
    share = english_only / "build" / "en" / "share"
    assert pdfs(wang)[EN_BOOKLET] == (share / "personalised" / "wang-kun.pdf").read_bytes()
    assert pdfs(wang)[EN_BOOKLET] != (share / EN_BOOKLET).read_bytes()


def test_a_row_without_a_booklet_of_their_own_is_told_they_get_the_generic_one(project, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("name,email,language\nAna Silva,ana@example.com,en\n"
                      "Ed Late,ed@example.com,en\n", encoding="utf-8")
    with SMTPServer() as server:
        result = send(project, server.port, people=people)
        box = server.mailbox
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("preparing ")]
    assert lines[:2] == [
        f"{people}:3:1: warning: Ed Late has no personalised en booklet: they get the generic one",
        "    hint: build personalised with --recipients for this row (and fix what it reports) to "
        "send them their own"]
    [ed] = box.messages_to("ed@example.com")
    assert pdfs(ed)[EN_BOOKLET] == (project / "build" / "en" / "share" / EN_BOOKLET).read_bytes()
    assert "Traceback" not in result.stderr
