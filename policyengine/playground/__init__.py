"""The playground: a local web app where people learn KMS access by changing policies.

``workspace`` holds what the page edits, ``answer`` decides it with the real engine (decision,
why-tree, "allow only if", lint marks), ``suggest`` finds verified changes that would allow,
``whatif`` compares two workspaces over a table of requests, ``lessons`` checks exercises,
``share`` packs a workspace into a link, and ``app`` serves it all on loopback.
"""

from policyengine.playground.answer import answer, decide
from policyengine.playground.app import PlaygroundApp
from policyengine.playground.examples import example_names, load_example, scenario_data
from policyengine.playground.lessons import Lesson, LessonError, check_lesson, load_lessons
from policyengine.playground.scenarios import from_scenario, to_scenario
from policyengine.playground.share import pack, unpack
from policyengine.playground.suggest import Change, Suggestion, apply_change
from policyengine.playground.whatif import compare
from policyengine.playground.workspace import Workspace, WorkspaceError

__all__ = [
    "Change",
    "Lesson",
    "LessonError",
    "PlaygroundApp",
    "Suggestion",
    "Workspace",
    "WorkspaceError",
    "answer",
    "apply_change",
    "check_lesson",
    "compare",
    "decide",
    "example_names",
    "from_scenario",
    "load_example",
    "load_lessons",
    "pack",
    "scenario_data",
    "to_scenario",
    "unpack",
]
