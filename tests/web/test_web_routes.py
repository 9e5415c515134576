"""Every route of the app, as every role and anonymously, blinded and after unblinding.

The routes come from the app's own route table, so a route added later is covered
without editing this file: it must declare its roles (:class:`nocilab.web.auth.Allow`),
and then it is requested as each role and checked against them. While the study is
blinded no response may hold an arm, donor or preparation name of the study.
"""

from __future__ import annotations

import re

from _web_study import PASSPHRASE, SECRET_NAMES
from _web_helpers import ROLE_OF, csrf_of, enter_paw_pressure, login, run_power, run_report
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from nocilab import accounts, bench
from nocilab.design.blinding import unblind
from nocilab.web.auth import Allow, check_csrf

ROLES = tuple(ROLE_OF.values())
PAYLOAD = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"  # as Jinja2 writes it


def _policy(route: APIRoute) -> Allow:
    allows = [d.dependency for d in route.dependencies if isinstance(d.dependency, Allow)]
    assert len(allows) == 1, f"{route.path} must declare its roles with exactly one Allow"
    return allows[0]


def _flat(routes) -> list:
    """The routes of a route table, those of included routers too."""
    out = []
    for r in routes:
        included = getattr(r, "original_router", None)  # an APIRouter given to include_router
        out.extend(_flat(included.routes) if included is not None else [r])
    return out


def _routes(app) -> list[tuple[str, str, APIRoute]]:
    out = []
    for r in _flat(app.routes):
        assert isinstance(r, APIRoute), f"{r!r} is not an APIRoute: it would escape the checks"
        for method in sorted(r.methods):
            out.append((method, r.path, r))
    return out


def _fill(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: params[m.group(1)], path)


def _enter_some_readings(web) -> dict[str, str]:
    """Readings so that pages show stored values; returns sample path parameters."""
    study, store = web.study, web.store
    vf = bench.session_animals(study, store, "von_frey", -1)
    bench.enter_reading(study, store, code=vf[0].code, assay="von_frey", study_day=-1,
                        trial=1, values={"xo_series": "OOXOXOO", "last_filament": "7",
                                         "filaments_used": "5,6,7,6,7,6,7"},
                        actor="jk", token="r" * 32)
    pp = bench.session_animals(study, store, "paw_pressure", -1)
    bench.enter_reading(study, store, code=pp[0].code, assay="paw_pressure", study_day=-1,
                        trial=1, values={"force_g": "120"}, actor="jk", token="s" * 32)
    # an account of its own for the users page's POSTs (they disable and enable it)
    accounts.add_user(store, "spare", "spare password 1", role="viewer", actor="pi")
    return {"assay": "von_frey", "day": "-1", "code": vf[0].code, "trial": "1",
            "name": "htmx.min.js", "username": "spare", "path": "report.html",
            "file": "sample_size.txt"}


def _make_outputs(app) -> None:
    """A report (blinded or naming arms, as the study is now) and a power calculation,
    so that their pages and files have something to show."""
    run_report(app, outcomes="paw_pressure.threshold_g")  # von Frey has one reading
    run_power(app, {"effect": "20", "from_study": "yes", "outcome": "paw_pressure.threshold_g",
                    "donors": "2-3", "mice": "1,2", "sims": "200"})


def _request(app, role: str | None, method: str, url: str):
    client = TestClient(app, raise_server_exceptions=False)
    if role is not None:
        assert login(client, {v: k for k, v in ROLE_OF.items()}[role]).status_code == 303
        token = csrf_of(client.get("/").text)
    else:
        token = csrf_of(client.get("/login").text)
    if method == "GET":
        r = client.get(url, follow_redirects=False)
    else:
        r = client.request(method, url, data={"csrf_token": token}, follow_redirects=False)
    client.close()
    return r


def _check_matrix(app, params, *, blinded: bool) -> int:
    n = 0
    for method, path, route in _routes(app):
        policy = _policy(route)
        if method != "GET":
            assert any(d.dependency is check_csrf for d in route.dependencies), \
                f"{method} {path} has no CSRF check"
        url = _fill(path, params)
        for role in (None, *ROLES):
            r = _request(app, role, method, url)
            n += 1
            where = f"{method} {path} as {role or 'anonymous'}"
            assert r.status_code < 500, f"{where}: {r.status_code}"
            if policy.public:
                assert r.status_code in (200, 303, 401), where
            elif role is None:
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), where
            elif role in policy.roles:
                assert r.status_code != 403, where
                if method == "GET":
                    assert r.status_code == 200, where
            else:
                assert r.status_code == 403 and "Not for your role" in r.text, where
            if blinded or role in ("experimenter", None):
                body = r.text + " ".join(r.headers.values())
                leaked = [s for s in SECRET_NAMES if s in body]
                assert not leaked, f"{where} shows {leaked}"
    return n


def test_every_route_as_every_role_before_and_after_unblinding(app):
    web = app.state.web
    params = _enter_some_readings(web)
    enter_paw_pressure(web, trials=(2, 3))
    _make_outputs(app)
    routes = _routes(app)
    paths = {p for _, p, _ in routes}
    assert {"/login", "/", "/sessions/{assay}/{day}", "/sessions/{assay}/{day}/{code}",
            "/sessions/{assay}/{day}/{code}/tap"} <= paths
    public = [p for _, p, r in routes if _policy(r).public]
    assert public == ["/login", "/login"]  # only the login page goes without a session
    n = _check_matrix(app, params, blinded=True)
    assert n == len(routes) * (len(ROLES) + 1)
    unblind(web.study, web.store, passphrase=PASSPHRASE, actor="pi", reason="all entered")
    _make_outputs(app)
    _check_matrix(app, params, blinded=False)
    assert web.store.verify_audit().ok


def test_the_secret_names_are_in_the_study_so_the_search_means_something(app):
    from nocilab.design.blinding import assignments

    web = app.state.web
    unblind(web.study, web.store, passphrase=PASSPHRASE, actor="pi", reason="check")
    revealed = assignments(web.study, web.store, reveal=True)
    names = set(revealed["arm"]) | set(revealed["donor"]) | set(revealed["preparation"])
    assert names and names <= set(SECRET_NAMES)


def test_each_post_is_refused_without_the_csrf_token(client_as, app):
    params = _enter_some_readings(app.state.web)
    client = client_as("admin")
    for method, path, _route in _routes(app):
        if method == "GET":
            continue
        url = _fill(path, params)
        for data in ({}, {"csrf_token": "not the token"}):
            r = client.post(url, data=data, follow_redirects=False)
            assert r.status_code == 403 and "Form refused" in r.text, f"{path} {data}"
        r = client.post(url, headers={"X-CSRF-Token": "wrong"}, follow_redirects=False)
        assert r.status_code == 403, path
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in


def _assert_escaped(text: str) -> None:
    assert PAYLOAD not in text and "<script>alert" not in text


def test_text_typed_by_users_is_escaped(client_as, app):
    web = app.state.web
    anon = client_as(None)
    page = anon.get("/login")
    r = anon.post("/login", data={"username": PAYLOAD, "password": "x" * 12,
                                  "csrf_token": csrf_of(page.text)})
    assert r.status_code == 401
    _assert_escaped(r.text)
    assert ESCAPED in r.text  # shown back, escaped, in the field

    client = client_as("experimenter")
    img = '<img src=x onerror="alert(1)">'
    r = client.get(f"/sessions/von_frey/-1/{img}")
    assert r.status_code == 400 and "&lt;img src=x" in r.text and img not in r.text

    code = bench.session_animals(web.study, web.store, "paw_pressure", -1)[0].code
    url = f"/sessions/paw_pressure/-1/{code}"
    form = client.get(url).text
    token = re.search(r'name="token" value="([0-9a-f]+)"', form).group(1)
    r = client.post(url + "/save", data={"csrf_token": csrf_of(form), "token": token,
                                         "trial": "1", "force_g": PAYLOAD})
    assert r.status_code == 422 and "must be a number" in r.text
    _assert_escaped(r.text)
    assert ESCAPED in r.text

    vf = bench.session_animals(web.study, web.store, "von_frey", -1)[0].code
    url = f"/sessions/von_frey/-1/{vf}"
    form = client.get(url).text
    token = re.search(r'name="token" value="([0-9a-f]+)"', form).group(1)
    r = client.post(url + "/tap", data={"csrf_token": csrf_of(form), "token": token,
                                        "trial": "1", "series": PAYLOAD, "response": "X"})
    assert r.status_code == 422
    _assert_escaped(r.text)
    assert web.store.observations().empty
