"""What each kind of workflow step does on a run: the tasks it starts (each agent's input), and
how a planner's plan and a reviewer's verdict move the run (:mod:`.plans` words and reads them)."""

import logging

from . import plans

_logger = logging.getLogger(__name__)


def tasks_of(run, step):
    """The values of the tasks ``step`` starts on ``run``."""
    builders = {
        "plan": plan_tasks,
        "execute": execute_tasks,
        "review": review_tasks,
        "synthesize": synthesize_tasks,
        "approval": approval_tasks,
    }
    return builders[step.kind](run, step)


def plan_tasks(run, step, answer=None, error=None):
    """The planner's task; with ``answer`` and ``error``, asked again after an invalid plan."""
    agents = plan_agents(run, step)
    roster = [(a.code, a.name, a.description or "") for a in agents]
    text = (
        plans.replan_task(run.question, step.instructions, roster, run._aia_tasks_left(), answer, error)
        if error
        else plans.plan_task(run.question, step.instructions, roster, run._aia_tasks_left())
    )
    return [{"name": step.name, "agent_id": step.agent_id.id, "input": text}]


def execute_tasks(run, step, keys=None, feedback=None):
    """The tasks of an execute step: the plan's (on a send-back, those of ``keys`` only, each
    with the reviewer's ``feedback``), or without a plan the step's own. Their input is
    written when they are queued, their inputs' results done (aia.workflow.task)."""
    feedback = feedback or {}
    if not run.plan:
        brief = step.instructions or run.question
        text = "\n".join(feedback.values())
        return [
            {
                "name": step.name,
                "key": f"step-{step.id}",
                "agent_id": step.agent_id.id,
                "brief": brief,
                "feedback": text,
            }
        ]
    agents = {agent.code: agent for agent in plan_agents(run, plan_step(run))}
    return [
        {
            "name": item["task"][:80],
            "key": item["id"],
            "agent_id": agents[item["agent"]].id,
            "input_keys": item.get("inputs", []),
            "brief": item["task"],
            "feedback": feedback.get(item["id"]),
        }
        for item in run.plan["steps"]
        if keys is None or item["id"] in keys
    ]


def execute_input(run, step, brief, keys=None, feedback=None):
    """What the agent of an execute task of ``step`` is asked: its ``brief``, with the results
    of the planned steps of ``keys`` and the reviewer's ``feedback``."""
    inputs = results(run, keys) if keys else []
    instructions = step.instructions if run.plan else ""
    return plans.execute_task(brief, run.question, instructions, inputs, feedback)


def review_tasks(run, step):
    """The reviewer's task: the results with what their tools returned."""
    text = plans.review_task(run.question, step.instructions, results(run, evidence=True))
    return [{"name": step.name, "agent_id": step.agent_id.id, "input": text}]


def synthesize_tasks(run, step):
    """The writer's task: the results and the last review's notes."""
    notes = run.task_ids.filtered(lambda t: t.step_id.kind == "review" and t.state == "done")[-1:].output
    text = plans.synthesize_task(run.question, step.instructions, results(run), notes)
    return [{"name": step.name, "agent_id": step.agent_id.id, "input": text}]


def approval_tasks(run, step):
    """A person's decision: the step's approver, else whoever started the run."""
    approver = step.approver_id or run.user_id
    return [
        {
            "name": step.name,
            "approver_id": approver.id,
            "state": "waiting",
            "input": step.instructions or "",
        }
    ]


def read_plan(run, tasks):
    """Read the plan the planner gave (``tasks``: its task of this pass). An invalid plan is sent
    back to it once with what is wrong; twice, the run fails. Returns whether the plan is valid."""
    task = tasks[-1]
    step = run.step_id
    agents = plan_agents(run, plan_step(run))
    try:
        plan = plans.read_json(task.output, plans.PLAN_SCHEMA)
        plans.check_plan(plan, set(agents.mapped("code")), run._aia_tasks_left())
    except plans.AnswerError as exc:
        if len(run.task_ids.filtered(lambda t: t.step_id == step)) > 1:
            run._aia_fail(run.env._("The planner's plan is not valid: %(error)s", error=exc))
            return False
        run._aia_start_pass(step, plan_tasks(run, step, task.output, str(exc)))
        return False
    run.plan = plan
    return True


def send_back(run, tasks):
    """Act on the reviewer's verdict (``tasks``: its task of this pass): the tasks it sends
    back are done again, at most the step's send-backs times; returns whether any were."""
    step = run.step_id
    try:
        verdict = plans.read_json(tasks[-1].output, plans.REVIEW_SCHEMA)
    except plans.AnswerError as exc:
        # A verdict that cannot be read sends nothing back: its text goes to the synthesis.
        _logger.info("workflow run %s: review not read: %s", run.id, exc)
        return False
    reviews = run.task_ids.filtered(lambda t: t.step_id == step)
    keys = {item["step"]: item["feedback"] for item in verdict.get("redo", ())}
    if run.plan:  # without a plan, the one execute task is sent back whatever it is called
        keys = {key: text for key, text in keys.items() if key in {s["id"] for s in run.plan["steps"]}}
    if verdict["approved"] or not keys or len(reviews) > step.max_rounds:
        return False
    execute = run.workflow_id.step_ids.filtered(
        lambda s: s.kind == "execute" and (s.sequence, s.id) < (step.sequence, step.id)
    ).sorted("sequence")[-1:]
    run._aia_start_pass(execute, execute_tasks(run, execute, set(keys), keys))
    return True


def plan_step(run):
    """The workflow's plan step, if any."""
    return run.workflow_id.step_ids.filtered(lambda s: s.kind == "plan")[:1]


def plan_agents(run, planner):
    """The agents a plan may assign: the execute step's list, those the run's user may use."""
    execute = run.workflow_id.step_ids.filtered(
        lambda s: s.kind == "execute" and (s.sequence, s.id) > (planner.sequence, planner.id)
    ).sorted("sequence")[:1]
    agents = execute.agent_ids | execute.agent_id
    readable = agents.with_user(run.user_id).with_company(run.company_id)._filtered_access("read")
    return agents.filtered(lambda a: a in readable and a.active)


def results(run, keys=None, evidence=False):
    """(key, agent code, output) of the latest done execute task of each planned step (or of
    ``keys``), in plan order; with ``evidence``, each output followed by the results of the
    tools its session called (a reviewer checks the figures against them)."""
    done = run.task_ids.filtered(lambda t: t.step_id.kind == "execute" and t.state == "done")
    latest = {task.key or str(task.id): task for task in done.sorted("id")}
    if keys is not None:
        latest = {key: task for key, task in latest.items() if key in keys}
    return [
        (key, task.agent_id.code, task._aia_evidence() if evidence else task.output or "")
        for key, task in latest.items()
    ]
