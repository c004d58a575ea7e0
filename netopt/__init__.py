"""netopt: plan networks of public service offices.

The pipeline, one module per stage::

    data (load, validate) → visits, costs (calibrated) → instance (the problem)
    → model (build) → solver (optimise) → plan (solve, evaluate)
    → metrics (independent evaluation), areas → tables → report, maps, exports
    → outputs → cli

Typical use::

    import netopt
    net = netopt.load_network()
    plan = netopt.solve(net, netopt.load_scenario("scenarios/cut-2027.toml"))
    netopt.write_outputs(plan, "maps/cut-2027")
"""

__version__ = "0.1.0"

from .data import Network, load_network
from .errors import DataError, InfeasibleError, NetoptError, OutputError, Problem, ScenarioError
from .params import Parameters, load_parameters
from .scenario import Constraints, Modes, Scenario, SolverSettings, Stage, load_scenario
from .instance import prepare
from .plan import Plan, evaluate, solve
from .solver import SolveStatus
from .outputs import write_outputs
from .tables import PlanTables, plan_tables
from .calibration import calibration_report
from .areas import areas_table, load_areas

__all__ = [
    "__version__",
    "Network",
    "load_network",
    "Parameters",
    "load_parameters",
    "Scenario",
    "Stage",
    "Modes",
    "Constraints",
    "SolverSettings",
    "SolveStatus",
    "load_scenario",
    "Plan",
    "solve",
    "evaluate",
    "prepare",
    "write_outputs",
    "plan_tables",
    "PlanTables",
    "calibration_report",
    "load_areas",
    "areas_table",
    "NetoptError",
    "DataError",
    "ScenarioError",
    "InfeasibleError",
    "OutputError",
    "Problem",
]
