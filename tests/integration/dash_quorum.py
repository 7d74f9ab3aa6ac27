"""The dashboard's member verdicts in a real browser (headless chromium,
chromedriver, python3-selenium), for test_quorum.sh:

    dash_quorum.py BASE_URL STACK REGEX

Loads BASE_URL/ and waits (30 s at most) until the stack row STACK of the
group www shows a quorum line (div.quorum under its health) matching
REGEX.  Exit 0 when it does, 1 with the line it showed, 77 without
Selenium.
"""
import os
import re
import shutil
import sys
import tempfile
import time

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
except ImportError:
    print("skip: no python3-selenium")
    sys.exit(77)

BASE, STACK, REGEX = sys.argv[1:4]
opts = Options()
opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
profile = tempfile.mkdtemp(prefix="fo-chromium-")
for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
          "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
          "--disable-background-networking", "--disable-sync",
          "--user-data-dir=" + profile):
    opts.add_argument(a)
service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
driver = webdriver.Chrome(service=service, options=opts)
seen = ""
try:
    driver.set_page_load_timeout(30)
    driver.get(BASE + "/")
    end = time.monotonic() + 30
    while time.monotonic() < end:
        rows = driver.find_elements(By.CSS_SELECTOR,
            'article.group[data-group="www"] tr.stack[data-stack="%s"] div.quorum' % STACK)
        try:
            seen = rows[0].text if rows else ""
        except StaleElementReferenceException:
            continue	# the page redrew the group: look again
        if re.search(REGEX, seen):
            print("ok: " + seen)
            sys.exit(0)
        time.sleep(0.2)
    print("FAIL: the quorum line of %s is %r, not /%s/" % (STACK, seen, REGEX))
    sys.exit(1)
finally:
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
