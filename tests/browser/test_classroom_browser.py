"""Handing out the student edition: a learner clicks the nbgitpuller link, twice.

The teacher publishes the student edition on its branch (`make student-branch`) and pushes it; a
Jupyter server with nbgitpuller (the classroom tools' environment, as on a hub, without the hub's
/hub/user-redirect prefix) clones it when the learner opens the link and shows the first
chapter. The learner works; the teacher publishes an update; the second click brings the update
and keeps the learner's work.
"""

import json
import os
import secrets
import subprocess

import nbformat

from lenet_nb.course import classroom
from tests.browser.conftest import (
    Lab,
    _free_port,
    _stop,
    _wait_for_status,
    _write_settings,
)
from tests.conftest import classroom_tool, course_repo, git


def _edit(path, cell, text):
    nb = nbformat.read(path, as_version=4)
    nb.cells[cell].source = text
    nbformat.write(nb, path)


def test_the_link_clones_the_student_edition_and_later_keeps_the_learners_work(
        browser, tmp_path):
    jupyter = classroom_tool("jupyter")
    course = course_repo(tmp_path / "course")
    remote = tmp_path / "lenet-course.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    classroom.publish(course)
    git(course, "push", "-q", str(remote), classroom.BRANCH)

    home = tmp_path / "home"
    home.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    _write_settings(tmp_path / "settings")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    env.pop("PYTHONPATH", None)
    log = tmp_path / "server.log"
    cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd + (["--allow-root"] if os.geteuid() == 0 else []), env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    context = browser.new_context()
    try:
        _wait_for_status(url, token, proc, log)
        link = classroom.pull_link(url, f"file://{remote}", through_hub=False)
        page = context.new_page()
        page.goto(f"{link}&token={token}")
        page.wait_for_url(f"**/lab/tree/{classroom.TARGET}/{classroom.FIRST}*", timeout=60_000)
        page.locator(".jp-NotebookPanel .jp-MarkdownOutput h1").first.wait_for(timeout=60_000)
        Lab.screenshot(page, "classroom-nbgitpuller-first-click")
        clone = home / classroom.TARGET
        names = sorted(p.name for p in (course / "notebooks").glob("*.ipynb"))
        assert sorted(p.name for p in clone.glob("*.ipynb")) == names

        # the learner answers in chapter 2 and keeps notes; the teacher updates chapter 0
        mine = clone / "02_shapes.ipynb"
        _edit(mine, 0, "My own notes on chapter 2.")
        (clone / "notes.txt").write_text("mine\n")
        start = course / "notebooks" / "00_start_here.ipynb"
        _edit(start, 0, "# Start here\n\nUpdated by the teacher.")
        classroom.publish(course)
        git(course, "push", "-q", str(remote), classroom.BRANCH)

        page.goto(f"{link}&token={token}")
        page.wait_for_url(f"**/lab/tree/{classroom.TARGET}/{classroom.FIRST}*", timeout=60_000)
        assert nbformat.read(mine, as_version=4).cells[0].source == "My own notes on chapter 2."
        assert (clone / "notes.txt").read_text() == "mine\n"
        updated = json.loads((clone / classroom.FIRST).read_text())
        assert "".join(updated["cells"][0]["source"]).endswith("Updated by the teacher.")
    finally:
        context.close()
        _stop(proc)
