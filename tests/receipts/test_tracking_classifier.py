"""The automated-fetch classifier over real-world user agents, networks and timings."""
from pathlib import Path

import pytest

from receipts_plugin.tracking.pixel import PERSON, RULES, classify_fetch

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36")
HOME = "93.184.216.34"  # an ordinary address in none of the listed networks
HOUR = 3600.0

CASES = [
    # (what it is, user agent, ip, seconds after delivery, expected rule)
    ("Gmail image proxy", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
     "66.249.84.21", HOUR, "gmail-proxy"),
    ("Gmail proxy, address unknown", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
     "(via ggpht.com GoogleImageProxy)", None, None, "gmail-proxy"),
    ("Apple Mail Privacy Protection", "Mozilla/5.0", "17.58.101.4", 120, "apple-network"),
    ("Apple MPP over IPv6-mapped address", "Mozilla/5.0", "::ffff:17.1.2.3", 120, "apple-network"),
    ("MPP-style bare user agent via a CDN", "Mozilla/5.0", "104.28.40.12", 300, "bare-mozilla"),
    ("Yahoo Mail proxy", "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/42.0.2311.135 Safari/537.36 Edge/12.10136 YahooMailProxy; "
     "https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "98.137.10.4", HOUR, "yahoo-proxy"),
    ("Google network, ordinary UA", CHROME, "66.102.8.77", HOUR, "google-network"),
    ("Microsoft 365 Safe Links detonation", CHROME, "40.107.22.51", 40, "microsoft-network"),
    ("Exchange Online Protection", CHROME, "104.47.18.100", HOUR, "microsoft-network"),
    ("Microsoft scanner's frozen Edge/12 signature", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246", "20.42.1.1", HOUR, "frozen-browser"),
    ("Barracuda Sentinel", "Barracuda Sentinel (EE)", "34.120.1.2", HOUR, "scanner-name"),
    ("Barracuda network", CHROME, "64.235.150.2", HOUR, "barracuda-network"),
    ("Mimecast network", CHROME, "205.139.110.60", 90, "mimecast-network"),
    ("Mimecast UK network", CHROME, "185.58.85.1", HOUR, "mimecast-network"),
    ("Proofpoint network", CHROME, "148.163.150.10", HOUR, "proofpoint-network"),
    ("Proofpoint URL Defense", "Mozilla/5.0 (compatible; Proofpoint URL Defense)", "3.3.3.3", HOUR, "scanner-name"),
    ("a scripted fetch", "python-requests/2.32.3", HOME, HOUR, "bot-words"),
    ("a link preview bot", "Mozilla/5.0 (compatible; Bingbot/2.0; +http://www.bing.com/bingbot.htm)", HOME, HOUR,
     "bot-words"),
    ("headless browser", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/126.0.0.0 Safari/537.36", HOME, HOUR, "bot-words"),
    ("no user agent", None, HOME, HOUR, "no-user-agent"),
    ("blank user agent", "  ", HOME, HOUR, "no-user-agent"),
    ("a scanner seconds after delivery", CHROME, HOME, 4, "seconds-after-delivery"),
    ("desktop browser long after delivery", CHROME, HOME, 2 * HOUR, "person"),
    ("Thunderbird long after delivery", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
     "Thunderbird/128.3.0", HOME, 30 * 60, "person"),
    ("Outlook desktop", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)", HOME, HOUR,
     "person"),
    ("iPhone Mail without Privacy Protection", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "81.2.69.160", 5 * 60, "person"),
    ("delivery time unknown", CHROME, HOME, None, "person"),
    ("unparsable address", CHROME, "not-an-ip", HOUR, "person"),
]


@pytest.mark.parametrize("what, user_agent, ip, seconds, rule", CASES, ids=[c[0] for c in CASES])
def test_each_fetch_is_told_apart(what, user_agent, ip, seconds, rule):
    verdict = classify_fetch(user_agent, ip, seconds)
    assert verdict.rule == rule
    assert verdict.automated is (rule != "person")
    assert verdict.label == (PERSON if rule == "person" else next(r.label for r in RULES if r.name == rule))


def test_a_person_is_labelled_as_an_estimate():
    assert classify_fetch(CHROME, HOME, 2 * HOUR).label == "person (estimate)"


def test_the_timing_rule_starts_at_twenty_seconds():
    assert classify_fetch(CHROME, HOME, 19.9).rule == "seconds-after-delivery"
    assert classify_fetch(CHROME, HOME, 20.0).rule == "person"


def test_an_admin_can_list_more_automated_networks():
    assert classify_fetch(CHROME, "203.0.113.9", HOUR).rule == "person"
    verdict = classify_fetch(CHROME, "203.0.113.9", HOUR, extra_networks=["203.0.113.0/24"])
    assert (verdict.automated, verdict.rule) == (True, "configured-network")


def test_the_readme_documents_every_rule():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Downloads, open estimates and notifications"):]
    missing = [rule.name for rule in RULES if f"`{rule.name}`" not in section]
    assert missing == []
