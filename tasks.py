"""Daily database tasks: `inv --list`, then e.g. `inv db.upgrade`, `inv db.revision -m "add x"`, `inv db.current`.

Each task is a thin call into thirdai_platform.migrate.commands.verbs; a UserError becomes one line and exit code 1.
"""

import os
import sys
from functools import wraps

from invoke import Collection, Exit, task

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.commands import verbs
from thirdai_platform.migrate.commands.task_output import quiet_alembic_chatter
from thirdai_platform.migrate.session import load_session


def one_line_errors(body):
    @wraps(body)
    def run(c, *args, **kwargs):
        quiet_alembic_chatter()
        try:
            return body(c, *args, **kwargs)
        except UserError as error:
            raise Exit(f"error: {error}", code=1) from None
        except BrokenPipeError:  # `inv db.upgrade --sql | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
            raise Exit(code=1) from None

    return run


def session():
    """The session every task acts through: the project's Alembic config, its scripts, its database."""
    return load_session()


@task(help={"revision": "target revision (default: head)", "sql": "print the SQL instead of running it"})
@one_line_errors
def upgrade(c, revision="head", sql=False):
    """Apply migrations up to a revision (default: head)."""
    verbs.upgrade(session(), revision, sql=sql)


@task(
    help={
        "revision": "target revision or -N (default: -1, one step)",
        "yes": "confirm undoing more than one revision or going to base",
    }
)
@one_line_errors
def downgrade(c, revision="-1", yes=False):
    """Undo migrations: one step by default; more, or down to base, needs --yes."""
    undone = verbs.downgrade(session(), revision, confirmed=yes)
    print(f"undid {len(undone)} revision(s): {', '.join(s.revision for s in undone)}")


@task(
    help={
        "message": "what the revision changes",
        "empty": "write an empty script instead of autogenerating from the models",
    }
)
@one_line_errors
def revision(c, message="", empty=False):
    """Upgrade to head, then write a new revision from the model changes and list what needs review."""
    new = verbs.revision(session(), message, autogenerate=not empty)
    if new.path is None:
        print("no change between the models and the database: no revision written")
        return
    print(f"wrote {new.path}")
    for line in new.risky:
        print(f"  review: {line}")
    for line in new.review:
        print(f"  finding: {line}")


@task
@one_line_errors
def current(c):
    """Show the revision the database is at."""
    for line in verbs.current(session()):
        print(line)


@task(positional=["revision"], help={"revision": "the revision the database's schema already matches (e.g. head)"})
@one_line_errors
def stamp(c, revision):
    """Record a revision as applied without running it (adopting an existing database)."""
    verbs.stamp(session(), revision)


@task(help={"range": "revision range, e.g. base:head or -3:", "verbose": "show full details"})
@one_line_errors
def history(c, range=None, verbose=False):
    """List the revisions, newest first."""
    verbs.history(session(), range, verbose=verbose)


@task(help={"verbose": "show full details"})
@one_line_errors
def heads(c, verbose=False):
    """Show the head revision(s) of the history."""
    verbs.heads(session(), verbose=verbose)


@task(help={"message": "message of the merge revision"})
@one_line_errors
def merge(c, message="merge heads"):
    """Join several heads into one with a merge revision."""
    print(f"wrote {verbs.merge(session(), message)}")


@task
@one_line_errors
def check(c):
    """Compare the models with the database schema; fail when a migration is missing."""
    verbs.check(session())
    print("models and database schema match")


@task(help={"range": "a revision, or a range A:B (either end may be left out); default: every revision"})
@one_line_errors
def lint(c, range=None):
    """Review the revision scripts (static rules) and lint their SQL with squawk, without a database."""
    from thirdai_platform.migrate.static_checks import static_findings

    findings = static_findings(session(), range)
    for finding in findings:
        print(finding)
    if any(f.severity == "failure" for f in findings):
        raise UserError(f"{len(findings)} findings: fix them, or silence one with a reason in its script (see README)")
    print(f"no findings{' in ' + range if range else ''}")


@task(help={"report": "the walk's JSON report to take measured times from (default: reports/migrations.json)"})
@one_line_errors
def plan(c, report=None):
    """What `inv db.upgrade` would apply, in order: each revision's review and lint, and its rehearsal's lock and
    block times."""
    for line in verbs.plan(session(), report):
        print(line)


@task(
    help={
        "rows": "generated rows per table at each step",
        "seed": "seed of the generated data",
        "url": "an empty database to walk on (default: an ephemeral server)",
        "baseline": "the failures this file lists are known: reported apart, they do not fail the run",
        "write_baseline": "write today's failures to this file, as known",
        "changed_only": "gate only the revisions this branch changes; the others' failures are known",
        "max_blocked_write": "fail a revision whose legs block the application's writes longer (e.g. 2s)",
        "max_blocked_read": "the same for its reads",
        "html": "also write the walk's HTML report here",
    }
)
def verify(
    c,
    rows=5,
    seed=0,
    url=None,
    baseline=None,
    write_baseline=None,
    changed_only=False,
    max_blocked_write=None,
    max_blocked_read=None,
    html=None,
):
    """Walk every revision up, down and up with generated data (what `nox -s migrations` runs)."""
    from thirdai_platform.migrate.cli import main

    arguments = ["--config", session().config.config_file_name, "--rows", str(rows), "--seed", str(seed)]
    arguments += ["--url", url] if url else []
    arguments += ["--baseline", baseline] if baseline else []
    arguments += ["--write-baseline", write_baseline] if write_baseline else []
    arguments += ["--changed-only"] if changed_only else []
    arguments += ["--max-blocked-write", max_blocked_write] if max_blocked_write else []
    arguments += ["--max-blocked-read", max_blocked_read] if max_blocked_read else []
    arguments += ["--html", html] if html else []
    code = main(arguments)
    if code:
        raise Exit(code=code)


@task
def server(c):
    """Start a throwaway PostgreSQL for these tasks: prints `export DATABASE_URI=...`, runs until Ctrl-C."""
    from thirdai_platform.migrate.server.ephemeral import serve

    code = serve(lambda line: print(line, flush=True))
    if code:
        raise Exit(code=code)


db = Collection(
    "db", upgrade, downgrade, revision, current, stamp, history, heads, merge, check, lint, plan, verify, server
)
namespace = Collection(db)
