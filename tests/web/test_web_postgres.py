"""The web app on a PostgreSQL store (needs NOCILAB_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from _web_study import FAST_KDF, PASSPHRASE, study_data, write_study
from _web_helpers import PASSWORDS, ROLE_OF, csrf_of, login
from fastapi.testclient import TestClient

from nocilab import accounts, bench
from nocilab.design.blinding import allocate_study
from nocilab.store import Store
from nocilab.web import create_app

pytestmark = pytest.mark.postgres
POSTGRES_ENV = "NOCILAB_TEST_POSTGRES_URL"


@pytest.fixture
def pg_url():
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    url = sa.make_url(base)
    name = f"nocilab_w_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_login_and_bench_entry_on_postgresql(tmp_path, pg_url):
    data = study_data()
    data["study"]["database"] = pg_url
    study = write_study(tmp_path / "s", data)
    with Store.open(study.database_url()) as store:
        allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=2,
                       kdf_n=FAST_KDF)
        for name, role in ROLE_OF.items():
            accounts.add_user(store, name, PASSWORDS[name], role=role, actor="setup")
        code = bench.session_animals(study, store, "paw_pressure", -1)[0].code
    app = create_app(tmp_path / "s", secret_key="k")
    with TestClient(app) as client:
        assert login(client, "jk").status_code == 303
        url = f"/sessions/paw_pressure/-1/{code}"
        page = client.get(url).text
        token = page.split('name="token" value="')[1].split('"')[0]
        form = {"csrf_token": csrf_of(page), "token": token, "trial": "1", "force_g": "123.5"}
        assert client.post(url + "/save", data=form).status_code == 200
        assert client.post(url + "/save", data=form).status_code == 200  # sent twice
        store = app.state.web.store
        obs = store.observations()
        assert obs["value_num"].tolist() == [123.5] and obs["entered_by"].tolist() == ["jk"]
        assert store.verify_audit().ok
