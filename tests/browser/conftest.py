"""A real muster for the browser tests: its own home, a synthetic population, its users and
`muster serve` as a separate process, driven through Debian's chromium by Playwright."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MUSTER = Path(sys.executable).parent / "muster"
PASSWORD = "browser-test-password-7"
CALL_UP_BIRTH_YEARS = {str(y) for y in range(2000, 2006)}


def _unavailable(reason: str):
    """Missing tooling fails the run in CI and skips it elsewhere."""
    if CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _browser_allowed():
    if os.environ.get("MUSTER_TEST_BROWSER") == "0":
        pytest.skip("browser tests switched off by MUSTER_TEST_BROWSER=0")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is missing (pip install -e '.[test]')")


@dataclass(frozen=True)
class Site:
    url: str
    home: Path
    national_id: str
    surname: str
    given_name: str
    birth_date: str
    office: str
    other_office: str
    record_id: str
    batch: str
    woman_national_id: str
    woman_surname: str
    clerk: str = "clerk-a"
    second_clerk: str = "clerk-a2"
    head: str = "head-a"
    other_clerk: str = "clerk-b"
    citizen: str = "citizen-a"
    password: str = PASSWORD


def _env(home: Path) -> dict[str, str]:
    # The server is what an operator runs: no test settings, no inherited database.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL") and not k.startswith("MUSTER_")
    }
    return {**env, "MUSTER_HOME": str(home), "MUSTER_PASSWORD": PASSWORD}


def _muster(env: dict, *args: str, check: bool = True) -> dict | None:
    done = subprocess.run(
        [str(MUSTER), *args, "--json"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        if check:
            pytest.fail(f"muster {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _call_up_age_men(population: Path):
    """Feed lines of RU men born 2000-2005; the feed has deliberate errors, so parse defensively."""
    with population.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if (
                isinstance(rec, dict)
                and rec.get("sex") == "M"
                and rec.get("citizenship") == "RU"
                and str(rec.get("birth_date", ""))[:4] in CALL_UP_BIRTH_YEARS
                and not rec.get("death_date")
                and isinstance(rec.get("national_id"), str)
            ):
                yield rec


def _women(population: Path):
    with population.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if (
                isinstance(rec, dict)
                and rec.get("sex") == "F"
                and not rec.get("death_date")
                and isinstance(rec.get("national_id"), str)
            ):
                yield rec


def _office_of(rec: dict) -> str | None:
    """The office the registry would assign from the feed line (checked with `muster person`)."""
    from muster.registry.offices import reference_offices

    for code, _name, _name_ru, region, districts in reference_offices():
        if rec.get("region") == region and rec.get("district") in districts:
            return code
    return None


def _pick_persons(env: dict, population: Path) -> tuple[dict, dict]:
    """A man of call-up age and a woman of the same office; `muster person` is the truth."""
    women: dict[str, list[dict]] = {}
    for rec in _women(population):
        women.setdefault(_office_of(rec), []).append(rec)
    for rec in _call_up_age_men(population):
        if not women.get(_office_of(rec)):
            continue
        person = _muster(env, "person", rec["national_id"], "--purpose", "browser test set-up", check=False)
        if not (person and person.get("office")):
            continue
        for w in women.get(person["office"], []):
            woman = _muster(env, "person", w["national_id"], "--purpose", "browser test set-up", check=False)
            if woman and woman.get("office") == person["office"] and woman.get("sex") == "F":
                return person, woman
    pytest.fail(f"no RU man born 2000-2005 with a woman of his office among the persons of {population}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"muster serve exited {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/accounts/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"muster serve did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # its own session: gunicorn and its workers only
        server.wait(timeout=15)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    home = tmp_path_factory.mktemp("muster-home")
    feeds = home / "feeds"
    env = _env(home)
    _muster(env, "init")
    _muster(env, "generate", "--persons", "300", "--out", str(feeds), "--seed", "3")
    _muster(env, "ingest", "--source", "population", str(feeds / "population.jsonl"))
    person, woman = _pick_persons(env, feeds / "population.jsonl")
    from muster.registry.offices import reference_offices

    other_office = next(code for code, *_ in reference_offices() if code != person["office"])
    current = next(v for v in person["provenance"]["national_id"] if v["current"])
    site = Site(
        url="",
        home=home,
        national_id=person["national_id"],
        surname=person["surname"],
        given_name=person["given_name"],
        birth_date=person["birth_date"],
        office=person["office"],
        other_office=other_office,
        record_id=current["record_id"],
        batch=current["batch"],
        woman_national_id=woman["national_id"],
        woman_surname=woman["surname"],
    )
    add = ("user", "add")
    _muster(env, *add, site.clerk, "--role", "clerk", "--office", site.office)
    _muster(env, *add, site.second_clerk, "--role", "clerk", "--office", site.office)
    _muster(env, *add, site.head, "--role", "office_head", "--office", site.office)
    _muster(env, *add, site.other_clerk, "--role", "clerk", "--office", site.other_office)
    _muster(env, *add, site.citizen, "--role", "citizen", "--national-id", site.national_id)

    port = _free_port()
    log = home / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(MUSTER), "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log)
        yield replace(site, url=url)
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, site):
    """Pages in fresh browser contexts (no shared cookies); each test may open several."""
    contexts = []

    def make(width: int = 1024):
        context = browser.new_context(base_url=site.url, viewport={"width": width, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory) -> str:
    """axe-core 4 from the npm registry, fetched once per session."""
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is not installed, so axe-core cannot be fetched: accessibility check skipped")
    folder = tmp_path_factory.mktemp("axe")
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"}
    try:
        done = subprocess.run(
            [npm, "pack", "axe-core@4", "--silent"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _unavailable("npm pack axe-core@4 timed out: accessibility check skipped")
    packed = sorted(folder.glob("axe-core-*.tgz"))
    if done.returncode != 0 or not packed:
        _unavailable(f"npm pack axe-core@4 failed ({done.stderr.strip()[-300:]}): accessibility check skipped")
    with tarfile.open(packed[-1]) as tgz:
        member = tgz.extractfile("package/axe.min.js")
        assert member is not None
        return member.read().decode()
