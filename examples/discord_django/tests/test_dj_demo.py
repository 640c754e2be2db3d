"""./build.sh demo, tested as a user would: start it, watch the JSON move, load the dashboard in
headless Chromium, see the numbers render and change, take a screenshot, Ctrl-C it, and find every
accepted event in the database."""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from example_support import EXAMPLE, REPO

pytestmark = [pytest.mark.demo,
              pytest.mark.skipif(os.environ.get("DISCORD_DJANGO_DB") == "postgres", reason="the demo runs on SQLite")]

SUMMARY = re.compile(r"demo: persisted (\d+) of (\d+) accepted events")
WAIT_S = 90  # upper bound for each wait below; each returns as soon as its condition holds


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_for(what, condition, timeout=WAIT_S, every=0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


@pytest.fixture(scope="module")
def chromium():
    found = subprocess.run([str(REPO / "scripts" / "ensure_chromium.sh")], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip(f"headless Chromium unavailable: {found.stderr.strip()}")
    browser, driver = found.stdout.split()
    return browser, driver


@pytest.fixture
def demo(tmp_path):
    """The demo server on a free port, in a throwaway folder; yields (base url, process, lines)."""
    (tmp_path / "data").mkdir()
    port = free_port()
    env = dict(os.environ, DISCORD_DJANGO_HOME=str(tmp_path), PYTHONUNBUFFERED="1", PORT=str(port))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DISCORD_DJANGO_DB", None)
    process = subprocess.Popen([sys.executable, str(EXAMPLE / "demo.py"), "--users", "2000"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines, ready = [], threading.Event()

    def read():
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "streamrank demo ready" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(WAIT_S) and process.poll() is None, "demo did not start:\n" + "\n".join(lines)
    yield f"http://127.0.0.1:{port}", process, lines, tmp_path
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def test_demo_dashboard_live_then_graceful_stop(demo, chromium):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    base, process, lines, home = demo

    # The guide's JSON endpoints move as traffic flows.
    first = get(base + "/api/dashboard/stats/")
    wait_for("events to flow", lambda: get(base + "/api/dashboard/stats/")["total_events_processed"]
             > first["total_events_processed"] + 100)
    stats = get(base + "/api/dashboard/stats/")
    assert stats["unique_active_users_last_hour"] > 0
    assert len(stats["top_channels"]) == 5 and len(stats["top_contributors"]) == 10
    rows = get(base + "/api/demo/metrics/")["current"]["rows"]
    wait_for("rows to be persisted", lambda: get(base + "/api/demo/metrics/")["current"]["rows"] > rows)
    top = get(base + "/api/leaderboard/?limit=10")
    assert [r["rank"] for r in top] == list(range(1, 11))
    assert all(r["display_name"] and r["display_name"] != "Unknown" for r in top)

    # The page, in headless Chromium.
    browser, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = home / "chromium-profile"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1440,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.get(base + "/")
        # The page re-renders every second: an element found in one poll may be gone by the
        # time it is read; the next poll finds the new one.
        wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.25,
                             ignored_exceptions=(StaleElementReferenceException,))
        number = lambda el_id: int(driver.find_element(By.ID, el_id).text.replace(",", "") or 0)  # noqa: E731

        def rendered(_):
            text = driver.find_element(By.ID, "kpi-processed").text
            return text.replace(",", "").isdigit() and int(text.replace(",", "")) > 0

        wait.until(rendered)
        processed, rows_shown = number("kpi-processed"), number("kpi-rows")
        wait.until(lambda _: number("kpi-processed") > processed and number("kpi-rows") > rows_shown)
        assert driver.find_element(By.ID, "status-text").text.startswith("live")
        wait.until(lambda _: len(driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")) == 10)
        # Read in one script: the page re-renders the table every second, so elements found
        # first and read one by one can go stale in between.
        names = driver.execute_script(
            "return Array.from(document.querySelectorAll('#leaderboard td.member'), td => td.innerText.trim())")
        assert all(names) and "Unknown" not in names
        wait.until(lambda _: len(driver.find_elements(By.CSS_SELECTOR, "#channels .bar")) >= 5)
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, "#chart-rate path.series").get_attribute("d").count("L") >= 5)
        assert driver.find_element(By.ID, "kpi-unique").text.replace(",", "").isdigit()
        assert driver.find_element(By.ID, "kpi-drop").text.endswith("%")
        wait.until(lambda _: driver.find_element(By.ID, "kpi-flush").text.endswith("ms"))
        shot = home / "dashboard.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 20000
        if os.environ.get("STREAMRANK_SCREENSHOT_DIR"):
            shutil.copy(shot, os.path.join(os.environ["STREAMRANK_SCREENSHOT_DIR"], "dashboard.png"))
    finally:
        driver.quit()

    # Ctrl-C: graceful stop, and every accepted event is in the database.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 0, "\n".join(lines[-30:])
    summary = wait_for("the summary line", lambda: next((l for l in lines if SUMMARY.search(l)), None), timeout=10)
    persisted, accepted = map(int, SUMMARY.search(summary).groups())
    with sqlite3.connect(home / "data" / "db.sqlite3") as db:
        in_db = db.execute("SELECT COUNT(*) FROM core_discordeventlog").fetchone()[0]
    assert in_db == persisted == accepted > 0
    assert (home / "data" / "leaderboard_backup.json").is_file()
    print(summary)
