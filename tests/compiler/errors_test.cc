// Compile error codes and texts, one small hand-built workflow per check, and the output shape.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "compiler_test_util.h"
#include "flyte/core/compiler/compiler.h"

using namespace compiler_test;
using flyteidl::core::CompiledTask;
using flyteidl::core::WorkflowTemplate;

namespace {

const std::string kInt = "simple: INTEGER";
const std::string kStr = "simple: STRING";

std::vector<CompiledTask> Tasks() {
  return {Task("add", {{"a", kInt}}, {{"o", kInt}}),
          Task("add2", {{"a", kInt}, {"b", kInt}}, {{"o", kInt}}),
          Task("upper", {{"s", kStr}}, {{"o", kStr}}),
          Task("noop", {}, {}),
          Task("ints", {}, {{"o", "collection_type { simple: INTEGER }"}}),
          Task("takes_list", {{"a", "collection_type { simple: INTEGER }"}}, {{"o", kInt}}),
          Task("optional",
               {{"a", "union_type { variants { simple: INTEGER } variants { simple: NONE } }"}},
               {{"o", kInt}}),
          Task("colour", {{"c", "enum_type { values: \"red\" values: \"green\" }"}}, {}),
          Task("dc", {},
               {{"o",
                 "simple: STRUCT structure { dataclass_type { key: \"x\" value { simple: INTEGER } "
                 "} }"}})};
}

std::string Promise(const std::string& var, const std::string& node, const std::string& out) {
  return "inputs { var: \"" + var + "\" binding { promise { node_id: \"" + node + "\" var: \"" +
         out + "\" } } } ";
}

std::string TaskNode(const std::string& id, const std::string& task,
                     const std::string& extra = "") {
  return "nodes { id: \"" + id + "\" task_node { " + TaskRef(task) + " } " + extra + "} ";
}

std::string Output(const std::string& var, const std::string& node, const std::string& out) {
  return "outputs { var: \"" + var + "\" binding { promise { node_id: \"" + node + "\" var: \"" +
         out + "\" } } } ";
}

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

using Ids_ = std::vector<std::string>;

}  // namespace

TEST_CASE("A linear workflow compiles to start and end nodes with sorted connections", "[unit]") {
  auto wf = Workflow({{"x", kInt}}, {{"y", kInt}},
                     TaskNode("n1", "add2",
                              Promise("a", "n0", "o") + Promise("b", "", "x") +
                                  "upstream_node_ids: \"n0\" upstream_node_ids: \"m\"") +
                         TaskNode("n0", "add", Promise("a", "", "x")) + TaskNode("m", "noop") +
                         Output("y", "n1", "o"));
  auto r = Compile(wf, Tasks());
  INFO(r.text);
  REQUIRE(r.closure.has_value());
  const auto& t = r.closure->primary().template_();
  REQUIRE(t.nodes_size() == 5);
  CHECK(t.nodes(0).id() == "start-node");
  CHECK(t.nodes(1).id() == "end-node");
  CHECK(t.nodes(2).id() == "n1");
  CHECK(t.nodes(3).id() == "n0");
  CHECK(t.nodes(4).id() == "m");
  // Promises without a node id point at the start node; upstream ids are sorted.
  CHECK(t.nodes(3).inputs(0).binding().promise().node_id() == "start-node");
  CHECK(Ids(t.nodes(2).upstream_node_ids()) == Ids_{"m", "n0"});
  // The end node's inputs are the workflow's outputs.
  CHECK(t.nodes(1).inputs_size() == 1);
  CHECK(t.nodes(1).inputs(0).var() == "y");
  const auto& c = r.closure->primary().connections();
  CHECK(Ids(c.downstream().at("start-node").ids()) == Ids_{"m", "n0", "n1"});
  CHECK(Ids(c.downstream().at("n0").ids()) == Ids_{"n1"});
  CHECK(Ids(c.downstream().at("m").ids()) == Ids_{"n1"});
  CHECK(Ids(c.downstream().at("n1").ids()) == Ids_{"end-node"});
  CHECK(Ids(c.upstream().at("n1").ids()) == Ids_{"m", "n0", "start-node"});
  CHECK(Ids(c.upstream().at("m").ids()) == Ids_{"start-node"});
  CHECK(Ids(c.upstream().at("end-node").ids()) == Ids_{"n1"});
  CHECK(c.downstream().count("end-node") == 0);
  // Every task passed in is in the closure, in the order given.
  CHECK(r.closure->tasks_size() == static_cast<int>(Tasks().size()));
  CHECK(r.closure->tasks(0).template_().id().name() == "add");
}

TEST_CASE("A workflow without nodes is NoNodesFound", "[unit]") {
  auto r = Compile(Workflow({}, {}, ""), Tasks());
  CHECK_FALSE(r.closure.has_value());
  const std::string id =
      "resource_type:WORKFLOW project:\"p\" domain:\"d\" name:\"wf\" version:\"v\"";
  CHECK(r.Has("NoNodesFound", id, "Can't find any nodes in workflow [" + id + "]."));
  CHECK(r.text == "Collected Errors: 1\n\tError 0: Code: NoNodesFound, Node Id: " + id +
                      ", Description: Can't find any nodes in workflow [" + id + "].\n");
}

TEST_CASE("Duplicate node ids keep the first node without an error", "[unit]") {
  auto wf = Workflow({{"x", kInt}}, {},
                     TaskNode("n0", "add", Promise("a", "", "x")) + TaskNode("n0", "noop"));
  auto r = Compile(wf, Tasks());
  INFO(r.text);
  REQUIRE(r.closure.has_value());
  const auto& t = r.closure->primary().template_();
  REQUIRE(t.nodes_size() == 3);
  CHECK(t.nodes(2).task_node().reference_id().name() == "add");
}

TEST_CASE("A node without an id is ValueRequired on <node>", "[unit]") {
  auto r = Compile(Workflow({}, {}, TaskNode("", "noop")), Tasks());
  CHECK(r.Has("ValueRequired", "<node>", "Value required [Id]."));
}

TEST_CASE("A node without a target is ValueRequired Target", "[unit]") {
  auto r = Compile(Workflow({}, {}, "nodes { id: \"n0\" }"), Tasks());
  CHECK(r.Has("ValueRequired", "n0", "Value required [Target]."));
  auto r2 = Compile(Workflow({}, {}, "nodes { id: \"n0\" task_node { } }"), Tasks());
  CHECK(r2.Has("ValueRequired", "n0", "Value required [TaskNode.ReferenceId]."));
  auto r3 = Compile(Workflow({}, {}, "nodes { id: \"n0\" workflow_node { } }"), Tasks());
  CHECK(r3.Has("WorkflowReferenceNotFound", "n0", "Referenced Workflow [<nil>/<nil>] not found."));
}

TEST_CASE("A promise from an unknown node is NodeReferenceNotFound and ParameterNotBound",
          "[unit]") {
  auto r = Compile(Workflow({}, {}, TaskNode("n0", "add", Promise("a", "ghost", "o"))), Tasks());
  CHECK_FALSE(r.closure.has_value());
  CHECK(r.Has("NodeReferenceNotFound", "ghost", "Referenced node [ghost] not found."));
  CHECK(r.Has("ParameterNotBound", "n0", "Parameter not bound [a]."));
}

TEST_CASE("Unknown variables are VariableNameNotFound", "[unit]") {
  SECTION("an output the upstream node does not have") {
    auto r = Compile(Workflow({{"x", kInt}}, {},
                              TaskNode("n0", "add", Promise("a", "", "x")) +
                                  TaskNode("n1", "add", Promise("a", "n0", "zzz"))),
                     Tasks());
    CHECK(r.Has("VariableNameNotFound", "n0", "Variable [zzz] not found on node [n0]."));
    CHECK(r.Has("ParameterNotBound", "n1", "Parameter not bound [a]."));
  }
  SECTION("an input the node does not have") {
    auto r = Compile(Workflow({{"x", kInt}}, {},
                              TaskNode("n0", "add", Promise("a", "", "x") + Promise("b", "", "x"))),
                     Tasks());
    CHECK(r.Has("VariableNameNotFound", "n0", "Variable [b] not found on node [n0]."));
  }
  SECTION("a workflow output that is not declared") {
    auto r =
        Compile(Workflow({{"x", kInt}}, {},
                         TaskNode("n0", "add", Promise("a", "", "x")) + Output("z", "n0", "o")),
                Tasks());
    CHECK(r.Has("VariableNameNotFound", "end-node", "Variable [z] not found on node [end-node]."));
  }
}

TEST_CASE("Missing inputs are ParameterNotBound unless optional", "[unit]") {
  auto r = Compile(Workflow({}, {}, TaskNode("n0", "add")), Tasks());
  CHECK(r.Has("ParameterNotBound", "n0", "Parameter not bound [a]."));
  auto optional = Compile(Workflow({}, {}, TaskNode("n0", "optional")), Tasks());
  INFO(optional.text);
  CHECK(optional.closure.has_value());
  auto outputs = Compile(Workflow({}, {{"y", kInt}}, TaskNode("n0", "noop")), Tasks());
  CHECK(outputs.Has("ParameterNotBound", "end-node", "Parameter not bound [y]."));
}

TEST_CASE("Binding an input twice is ParameterBoundMoreThanOnce", "[unit]") {
  auto r = Compile(Workflow({{"x", kInt}}, {},
                            TaskNode("n0", "add", Promise("a", "", "x") + Promise("a", "", "x"))),
                   Tasks());
  CHECK(r.Has("ParameterBoundMoreThanOnce", "n0", "Input [a] is bound more than once."));
}

TEST_CASE("A binding without data is ValueRequired Binding", "[unit]") {
  auto r = Compile(Workflow({}, {}, TaskNode("n0", "add", "inputs { var: \"a\" } ")), Tasks());
  CHECK(r.Has("ValueRequired", "n0", "Value required [Binding]."));
  CHECK(r.Has("ParameterNotBound", "n0", "Parameter not bound [a]."));
}

TEST_CASE("A cycle is CycleDetected with the path from the start node", "[unit]") {
  auto wf = Workflow({{"x", kInt}}, {},
                     TaskNode("n0", "add2", Promise("a", "", "x") + Promise("b", "n1", "o")) +
                         TaskNode("n1", "add2", Promise("a", "n0", "o") + Promise("b", "", "x")));
  auto r = Compile(wf, Tasks());
  CHECK(r.Has("CycleDetected", "start-node",
              "A cycle has been detected while traversing the Workflow [start-node>n0>n1>n0]."));
}

TEST_CASE("Nodes the start node cannot reach are UnreachableNodes", "[unit]") {
  auto wf =
      Workflow({}, {},
               TaskNode("n0", "noop", "upstream_node_ids: \"ghost\"") +
                   TaskNode("n1", "noop", "upstream_node_ids: \"n0\"") + TaskNode("ok", "noop"));
  auto r = Compile(wf, Tasks());
  CHECK(r.Has("UnreachableNodes", "start-node", "The Workflow contain unreachable nodes [n0,n1]."));
  CHECK(r.errors.size() == 1);
}

TEST_CASE("Incompatible promises and scalars are MismatchingTypes", "[unit]") {
  SECTION("promise, with node metadata names") {
    auto wf = Workflow(
        {{"x", kStr}}, {},
        TaskNode("n0", "upper", Promise("s", "", "x") + "metadata { name: \"up\" }") +
            TaskNode("n1", "add", Promise("a", "n0", "o") + "metadata { name: \"adder\" }"));
    auto r = Compile(wf, Tasks());
    CHECK(
        r.Has("MismatchingTypes", "n1",
              "The output variable 'up.o' has type [simple:STRING], but it's assigned to the input "
              "variable 'adder.a' which has type type [simple:INTEGER]."));
  }
  SECTION("scalar") {
    auto r = Compile(
        Workflow({}, {},
                 TaskNode("n0", "add",
                          "inputs { var: \"a\" binding { scalar { primitive { string_value: "
                          "\"hi\" } } } }")),
        Tasks());
    CHECK(
        r.Has("MismatchingTypes", "n0",
              "Variable [a] (type [simple:STRING]) doesn't match expected type [simple:INTEGER]."));
  }
  SECTION("collection elements") {
    auto r =
        Compile(Workflow({}, {},
                         TaskNode("n0", "takes_list",
                                  "inputs { var: \"a\" binding { collection { bindings { scalar { "
                                  "primitive { string_value: \"hi\" } } } } } }")),
                Tasks());
    CHECK(
        r.Has("MismatchingTypes", "n0",
              "Variable [a] (type [simple:STRING]) doesn't match expected type [simple:INTEGER]."));
  }
  SECTION("an index into a value that is not a collection") {
    auto r = Compile(Workflow({{"x", kInt}}, {},
                              TaskNode("n0", "add", Promise("a", "", "x")) +
                                  TaskNode("n1", "add", Promise("a", "n0", "[0].o"))),
                     Tasks());
    CHECK(r.Has("MismatchingTypes", "n1",
                "The output variable '[0].o' has type [simple:INTEGER], but it's assigned to the "
                "input variable 'a' which has type type [simple:INTEGER]."));
    auto ok = Compile(
        Workflow({}, {},
                 TaskNode("n0", "ints") + TaskNode("n1", "add", Promise("a", "n0", "[0].o"))),
        Tasks());
    INFO(ok.text);
    CHECK(ok.closure.has_value());
  }
}

TEST_CASE("Collection and map bindings to other types are MismatchingBindings", "[unit]") {
  auto r =
      Compile(Workflow({}, {},
                       TaskNode("n0", "add",
                                "inputs { var: \"a\" binding { collection { bindings { scalar { "
                                "primitive { integer: 1 } } } } } }")),
              Tasks());
  CHECK(r.Has("MismatchingBindings", "n0",
              "Input [a] on node [n0] expects bindings of type [simple:INTEGER].  Received "
              "[bindings:{scalar:{primitive:{integer:1}}}]"));
  auto m =
      Compile(Workflow({}, {},
                       TaskNode("n0", "add",
                                "inputs { var: \"a\" binding { map { bindings { key: \"k\" value { "
                                "scalar { primitive { integer: 1 } } } } } } }")),
              Tasks());
  CHECK(m.Has("MismatchingBindings", "n0",
              "Input [a] on node [n0] expects bindings of type [simple:INTEGER].  Received "
              "[bindings:{key:\"k\" value:{scalar:{primitive:{integer:1}}}}]"));
  auto off = Compile(
      Workflow(
          {}, {},
          TaskNode("n0", "add",
                   "inputs { var: \"a\" binding { offloaded_metadata { uri: \"s3://x\" } } }")),
      Tasks());
  CHECK(off.Has("MismatchingBindings", "n0",
                "Input [a] on node [n0] expects bindings of type [simple:INTEGER].  Received "
                "[*core.BindingData_OffloadedMetadata]"));
}

TEST_CASE("Collection bindings to unions must match exactly one variant", "[unit]") {
  std::vector<CompiledTask> tasks = {
      Task("ambiguous",
           {{"a",
             "union_type { variants { collection_type { simple: INTEGER } } variants { "
             "collection_type { union_type { variants { simple: INTEGER } variants { simple: "
             "STRING } } } } }"}},
           {}),
      Task("incompatible",
           {{"a",
             "union_type { variants { collection_type { simple: STRING } } variants { "
             "map_value_type { simple: INTEGER } } }"}},
           {}),
      Task("fits",
           {{"a",
             "union_type { variants { collection_type { simple: INTEGER } } variants { "
             "map_value_type { simple: INTEGER } } }"}},
           {})};
  const std::string list =
      "inputs { var: \"a\" binding { collection { bindings { scalar { primitive { integer: 1 } } } "
      "} } }";
  auto amb = Compile(Workflow({}, {}, TaskNode("n0", "ambiguous", list)), tasks);
  CHECK(amb.Has(
      "AmbiguousBindingUnionValue", "n0",
      "Input [a] on node [n0] expects bindings of union type [union_type:{variants:{"
      "collection_type:{simple:INTEGER}} variants:{collection_type:{union_type:{variants:{"
      "simple:INTEGER} variants:{simple:STRING}}}}}].  Received [collection:{bindings:{scalar:{"
      "primitive:{integer:1}}}}] which is ambiguous as both variants [collection_type:{simple:"
      "INTEGER}] and [collection_type:{union_type:{variants:{simple:INTEGER} variants:{simple:"
      "STRING}}}] match."));
  auto inc = Compile(Workflow({}, {}, TaskNode("n0", "incompatible", list)), tasks);
  CHECK(inc.Has(
      "IncompatibleBindingUnionValue", "n0",
      "Input [a] on node [n0] expects bindings of union type [union_type:{variants:{"
      "collection_type:{simple:STRING}} variants:{map_value_type:{simple:INTEGER}}}].  "
      "Received [collection:{bindings:{scalar:{primitive:{integer:1}}}}] which does not match "
      "any of the variants."));
  auto fits = Compile(Workflow({}, {}, TaskNode("n0", "fits", list)), tasks);
  INFO(fits.text);
  CHECK(fits.closure.has_value());
}

TEST_CASE("A string outside an enum's values is IllegalEnumValue", "[unit]") {
  auto bind = [](const std::string& v) {
    return TaskNode(
        "n0", "colour",
        "inputs { var: \"c\" binding { scalar { primitive { string_value: \"" + v + "\" } } } }");
  };
  auto r = Compile(Workflow({}, {}, bind("blue")), Tasks());
  CHECK(r.Has("IllegalEnumValue", "n0",
              "Input [c] on node [n0] is an Enum and expects value to be one of [[red green]].  "
              "Received [blue]"));
  CHECK(r.errors.size() == 1);
  CHECK(Compile(Workflow({}, {}, bind("red")), Tasks()).closure.has_value());
}

TEST_CASE("An unparsable promise variable is a SyntaxError", "[unit]") {
  auto r = Compile(Workflow({{"x", kInt}}, {},
                            TaskNode("n0", "add", Promise("a", "", "x")) +
                                TaskNode("n1", "add", Promise("a", "n0", "o.p"))),
                   Tasks());
  CHECK(r.Has("SyntaxError", "n1", "Failed to parse element [o.p]."));
}

TEST_CASE("An attribute path into a missing dataclass field is FieldNotFound", "[unit]") {
  auto attr = [](const std::string& field) {
    return TaskNode("n0", "dc") +
           TaskNode(
               "n1", "add",
               "inputs { var: \"a\" binding { promise { node_id: \"n0\" var: \"o\" attr_path { "
               "string_value: \"" +
                   field + "\" } } } }");
  };
  auto r = Compile(Workflow({}, {}, attr("y")), Tasks());
  CHECK(
      r.Has("FieldNotFound", "n1",
            "Variable [o] (type [simple:STRUCT structure:{dataclass_type:{key:\"x\" value:{simple:"
            "INTEGER}}}]) doesn't have field [y]."));
  auto ok = Compile(Workflow({}, {}, attr("x")), Tasks());
  INFO(ok.text);
  CHECK(ok.closure.has_value());
}

TEST_CASE("A scalar of unknown type is UnrecognizedValue", "[unit]") {
  auto r = Compile(
      Workflow({}, {},
               TaskNode("n0", "add",
                        "inputs { var: \"a\" binding { scalar { blob { uri: \"s3://b\" } } } }")),
      Tasks());
  CHECK(r.Has("UnrecognizedValue", "n0", "Unrecognized value [*core.Scalar_Blob]."));
}

TEST_CASE("Missing tasks, launch plans and sub-workflows are reference errors", "[unit]") {
  auto t = Compile(Workflow({}, {}, TaskNode("n0", "ghost")), Tasks());
  CHECK(t.Has("TaskReferenceNotFound", "start-node",
              "Referenced Task [resource_type:TASK project:\"p\" domain:\"d\" name:\"ghost\" "
              "version:\"v\"] not found."));
  CHECK(t.errors.size() == 1);
  auto lp = Compile(Workflow({}, {},
                             "nodes { id: \"n0\" workflow_node { launchplan_ref { resource_type: "
                             "LAUNCH_PLAN name: \"lp\" } } }"),
                    Tasks());
  CHECK(lp.Has("WorkflowReferenceNotFound", "start-node",
               "Referenced Workflow [resource_type:LAUNCH_PLAN name:\"lp\"] not found."));
  auto sub =
      Compile(Workflow({}, {},
                       "nodes { id: \"n0\" workflow_node { sub_workflow_ref { resource_type: "
                       "WORKFLOW name: \"sub\" } } }"),
              Tasks());
  CHECK(sub.Has("WorkflowReferenceNotFound", "n0",
                "Referenced Workflow [resource_type:WORKFLOW name:\"sub\"] not found."));
}

TEST_CASE("A launch plan node exposes required inputs and those it overrides", "[unit]") {
  flyte::plugin::LaunchPlanInterface lp;
  lp.id =
      Parse<flyteidl::core::Identifier>("resource_type: LAUNCH_PLAN name: \"lp\" version: \"v\"");
  lp.expected_inputs = Parse<flyteidl::core::ParameterMap>(
      "parameters { key: \"a\" value { var { type { simple: INTEGER } } required: true } } "
      "parameters { key: \"b\" value { var { type { simple: INTEGER } } default { scalar { "
      "primitive { "
      "integer: 3 } } } } }");
  lp.expected_outputs = Parse<flyteidl::core::VariableMap>(VarMap({{"o", kInt}}));
  auto node = [](const std::string& bindings) {
    return "nodes { id: \"n0\" workflow_node { launchplan_ref { resource_type: LAUNCH_PLAN name: "
           "\"lp\" version: \"v\" } } " +
           bindings + "} ";
  };
  auto only_a = Compile(
      Workflow({{"x", kInt}}, {{"y", kInt}}, node(Promise("a", "", "x")) + Output("y", "n0", "o")),
      Tasks(), {}, {lp});
  INFO(only_a.text);
  CHECK(only_a.closure.has_value());
  CHECK(Compile(Workflow({{"x", kInt}}, {}, node(Promise("a", "", "x") + Promise("b", "", "x"))),
                Tasks(), {}, {lp})
            .closure.has_value());
  auto none = Compile(Workflow({}, {}, node("")), Tasks(), {}, {lp});
  CHECK(none.Has("ParameterNotBound", "n0", "Parameter not bound [a]."));
  CHECK(none.errors.size() == 1);
  auto wrong =
      Compile(Workflow({{"x", kInt}}, {}, node(Promise("a", "", "x") + Promise("c", "", "x"))),
              Tasks(), {}, {lp});
  CHECK(wrong.Has("VariableNameNotFound", "n0", "Variable [c] not found on node [n0]."));
}

TEST_CASE("Referenced sub-workflows are compiled in place, others stay as given", "[unit]") {
  auto sub = Workflow({{"x", kInt}}, {{"y", kInt}},
                      TaskNode("s0", "add", Promise("a", "", "x")) + Output("y", "s0", "o"), "sub");
  auto unused = Workflow({}, {}, TaskNode("u0", "noop"), "unused");
  auto wf =
      Workflow({{"x", kInt}}, {{"y", kInt}},
               "nodes { id: \"n0\" workflow_node { sub_workflow_ref { resource_type: WORKFLOW "
               "project: \"p\" domain: \"d\" name: \"sub\" version: \"v\" } } " +
                   Promise("x", "", "x") + "} " + Output("y", "n0", "y"));
  auto r = Compile(wf, Tasks(), {sub, unused});
  INFO(r.text);
  REQUIRE(r.closure.has_value());
  REQUIRE(r.closure->sub_workflows_size() == 2);
  const auto& compiled = r.closure->sub_workflows(0);
  CHECK(compiled.template_().nodes(0).id() == "start-node");
  CHECK(compiled.template_().nodes(2).inputs(0).binding().promise().node_id() == "start-node");
  CHECK(Ids(compiled.connections().upstream().at("end-node").ids()) == Ids_{"s0"});
  CHECK(r.closure->sub_workflows(1).template_().nodes(0).id() == "u0");
  CHECK_FALSE(r.closure->sub_workflows(1).has_connections());

  auto dup = Compile(wf, Tasks(), {sub, sub});
  const std::string key =
      "resource_type:WORKFLOW project:\"p\" domain:\"d\" name:\"sub\" version:\"v\"";
  CHECK(dup.Has("DuplicateId", key, "Trying to insert two nodes with the same id."));

  // Upstream recurses without end on a self-referencing sub-workflow; we report the cycle.
  auto loop =
      Workflow({}, {},
               "nodes { id: \"l0\" workflow_node { sub_workflow_ref { resource_type: WORKFLOW "
               "project: \"p\" domain: \"d\" name: \"loop\" version: \"v\" } } }",
               "loop");
  auto parent =
      Workflow({}, {},
               "nodes { id: \"n0\" workflow_node { sub_workflow_ref { resource_type: WORKFLOW "
               "project: \"p\" domain: \"d\" name: \"loop\" version: \"v\" } } }");
  auto cyc = Compile(parent, Tasks(), {loop});
  CHECK(cyc.HasCode("CycleDetected"));
}

TEST_CASE("Branch nodes rename their cases and bind upstream only", "[unit]") {
  auto branch = [](const std::string& if_else, const std::string& inputs) {
    return "nodes { id: \"b\" branch_node { if_else { " + if_else + " } } " + inputs + "} ";
  };
  const std::string cond =
      "condition { comparison { operator: EQ left_value { var: \"x\" } right_value { primitive { "
      "integer: 1 } } } }";
  const std::string then_node =
      "then_node { id: \"t\" task_node { " + TaskRef("add") + " } " + Promise("a", "", "x") + "}";
  const std::string else_node =
      "else_node { id: \"e\" task_node { " + TaskRef("add") + " } " + Promise("a", "", "x") + "}";
  const std::string bind_x = Promise("x", "", "x");

  SECTION("a complete branch") {
    auto r =
        Compile(Workflow({{"x", kInt}}, {{"y", kInt}},
                         branch("case { " + cond + " " + then_node + " } " + else_node, bind_x) +
                             Output("y", "b", "o")),
                Tasks());
    INFO(r.text);
    REQUIRE(r.closure.has_value());
    const auto& t = r.closure->primary().template_();
    REQUIRE(t.nodes_size() == 3);
    const auto& ie = t.nodes(2).branch_node().if_else();
    CHECK(ie.case_().then_node().id() == "b-t");
    CHECK(ie.else_node().id() == "b-e");
    const auto& c = r.closure->primary().connections();
    CHECK(Ids(c.upstream().at("b-t").ids()) == Ids_{"start-node"});
    CHECK(Ids(c.upstream().at("b-e").ids()) == Ids_{"start-node"});
    CHECK(c.downstream().count("b-t") == 0);
    CHECK(Ids(c.downstream().at("start-node").ids()) == Ids_{"b"});
  }
  SECTION("no else and no error") {
    auto r = Compile(
        Workflow({{"x", kInt}}, {}, branch("case { " + cond + " " + then_node + " }", bind_x)),
        Tasks());
    CHECK(r.Has("BranchNodeHasNoDefault", "b",
                "Branch Node must have either the else case set or a default error."));
    auto with_error = Compile(
        Workflow(
            {{"x", kInt}}, {},
            branch("case { " + cond + " " + then_node + " } error { message: \"no\" }", bind_x)),
        Tasks());
    INFO(with_error.text);
    CHECK(with_error.closure.has_value());
  }
  SECTION("no case") {
    auto r = Compile(Workflow({{"x", kInt}}, {}, branch(else_node, bind_x)), Tasks());
    CHECK(r.Has("ValueRequired", "b", "Value required [Branch.IfElse.Case]."));
    CHECK(r.Has("BranchNodeHasNoCondition", "b",
                "One of the branches on the node doesn't have a condition."));
    auto empty = Compile(Workflow({{"x", kInt}}, {}, branch("", bind_x)), Tasks());
    CHECK(empty.HasCode("BranchNodeHasNoCondition"));
    CHECK(empty.Has("BranchNodeHasNoDefault", "b",
                    "Branch Node must have either the else case set or a default error."));
  }
  SECTION("a case without a condition or a then node") {
    auto r = Compile(
        Workflow({{"x", kInt}}, {},
                 branch("case { " + then_node + " } other { " + cond + " } " + else_node, bind_x)),
        Tasks());
    CHECK(r.Has("BranchNodeHasNoCondition", "b",
                "One of the branches on the node doesn't have a condition."));
    CHECK(r.Has("ValueRequired", "b", "Value required [IfElse.Case.ThenNode]."));
    CHECK(r.Has("BranchNodeIdNotFound", "b", "BranchNode not assigned"));
  }
  SECTION("cases whose outputs disagree") {
    const std::string str_else = "else_node { id: \"e\" task_node { " + TaskRef("upper") + " } " +
                                 "inputs { var: \"s\" binding { scalar { primitive { string_value: "
                                 "\"q\" } } } } }";
    auto r =
        Compile(Workflow({{"x", kInt}}, {},
                         branch("case { " + cond + " " + then_node + " } " + str_else, bind_x)),
                Tasks());
    CHECK(
        r.Has("MismatchingTypes", "b-e",
              "Variable [o] (type [simple:INTEGER]) doesn't match expected type [simple:STRING]."));
  }
  SECTION("conditions on unbound or mismatched variables") {
    const std::string unbound =
        "condition { comparison { operator: EQ left_value { var: \"zz\" } right_value { primitive "
        "{ "
        "integer: 1 } } } }";
    auto r =
        Compile(Workflow({{"x", kInt}}, {},
                         branch("case { " + unbound + " " + then_node + " } " + else_node, bind_x)),
                Tasks());
    CHECK(r.Has("VariableNameNotFound", "b", "Variable [zz] not found on node [b]."));
    const std::string mismatched =
        "condition { comparison { operator: EQ left_value { var: \"x\" } right_value { primitive { "
        "string_value: \"1\" } } } }";
    auto m = Compile(
        Workflow({{"x", kInt}}, {},
                 branch("case { " + mismatched + " " + then_node + " } " + else_node, bind_x)),
        Tasks());
    CHECK(m.Has("MismatchingTypes", "b",
                "Variable [RightValue] (type [simple:STRING]) doesn't match expected type "
                "[simple:INTEGER]."));
    auto no_expr =
        Compile(Workflow({{"x", kInt}}, {},
                         branch("case { condition { } " + then_node + " } " + else_node, bind_x)),
                Tasks());
    CHECK(no_expr.Has("ValueRequired", "b", "Value required [Expr]."));
    auto no_right =
        Compile(Workflow({{"x", kInt}}, {},
                         branch("case { condition { comparison { left_value { var: \"x\" } } } " +
                                    then_node + " } " + else_node,
                                bind_x)),
                Tasks());
    CHECK(no_right.Has("ValueRequired", "b", "Value required [RightValue]."));
  }
}

TEST_CASE("Gate nodes resolve their interface from their kind", "[unit]") {
  auto gate = [](const std::string& body, const std::string& inputs = "") {
    return "nodes { id: \"g\" gate_node { " + body + " } " + inputs + "} ";
  };
  auto approve = Compile(Workflow({{"x", kInt}}, {},
                                  gate("approve { signal_id: \"s\" }", Promise("x", "", "x")) +
                                      TaskNode("n1", "add", Promise("a", "g", "x"))),
                         Tasks());
  INFO(approve.text);
  CHECK(approve.closure.has_value());
  auto signal = Compile(Workflow({}, {},
                                 gate("signal { signal_id: \"s\" type { simple: INTEGER } "
                                      "output_variable_name: \"o\" }") +
                                     TaskNode("n1", "add", Promise("a", "g", "o"))),
                        Tasks());
  INFO(signal.text);
  CHECK(signal.closure.has_value());
  CHECK(Compile(Workflow({}, {}, gate("signal { signal_id: \"s\" output_variable_name: \"o\" }")),
                Tasks())
            .Has("ValueRequired", "g", "Value required [GateNode.Signal.Type]."));
  CHECK(Compile(Workflow({}, {}, gate("signal { signal_id: \"s\" type { simple: INTEGER } }")),
                Tasks())
            .Has("ValueRequired", "g", "Value required [GateNode.Signal.OutputVariableName]."));
  CHECK(Compile(Workflow({}, {}, gate("sleep { duration { seconds: 1 } }")), Tasks())
            .closure.has_value());
  CHECK(Compile(Workflow({}, {}, gate("")), Tasks())
            .Has("NoConditionFound", "g", "Can't find any condition in gate node [g]."));
}

TEST_CASE("An array node takes its inner node's interface and keeps it nested", "[unit]") {
  auto r = Compile(Workflow({{"xs", "collection_type { simple: INTEGER }"}}, {},
                            "nodes { id: \"m\" array_node { node { id: \"inner\" task_node { " +
                                TaskRef("takes_list") + " } } parallelism: 2 } " +
                                Promise("a", "", "xs") + "} "),
                   Tasks());
  INFO(r.text);
  REQUIRE(r.closure.has_value());
  CHECK(r.closure->primary().template_().nodes_size() == 3);
  auto reqs = flyte::core::compiler::MakeWorkflowCompiler()->GetRequirements(
      Workflow({}, {},
               "nodes { id: \"m\" array_node { node { id: \"inner\" task_node { " +
                   TaskRef("takes_list") + " } } } }"),
      {});
  REQUIRE(reqs.ok());
  REQUIRE(reqs->task_ids.size() == 1);
  CHECK(reqs->task_ids[0].name() == "takes_list");
}

TEST_CASE("The failure node is validated with upstream edges only", "[unit]") {
  auto r = Compile(Workflow({{"x", kInt}}, {},
                            TaskNode("n0", "noop") + "failure_node { id: \"fn\" task_node { " +
                                TaskRef("add") + " } " + Promise("a", "", "x") + "}"),
                   Tasks());
  INFO(r.text);
  REQUIRE(r.closure.has_value());
  const auto& c = r.closure->primary().connections();
  CHECK(Ids(c.upstream().at("fn").ids()) == Ids_{"start-node"});
  CHECK(Ids(c.downstream().at("start-node").ids()) == Ids_{"n0"});
  CHECK(r.closure->primary().template_().nodes_size() == 3);
  CHECK(r.closure->primary().template_().failure_node().inputs(0).binding().promise().node_id() ==
        "start-node");
  auto bad = Compile(Workflow({}, {},
                              TaskNode("n0", "noop") + "failure_node { id: \"fn\" task_node { " +
                                  TaskRef("add") + " } }"),
                     Tasks());
  CHECK(bad.Has("ParameterNotBound", "fn", "Parameter not bound [a]."));
}

TEST_CASE("Output aliases rename outputs; duplicates and dangling aliases are errors", "[unit]") {
  auto ok = Compile(
      Workflow({{"x", kInt}}, {},
               TaskNode("n0", "add",
                        Promise("a", "", "x") + "output_aliases { var: \"o\" alias: \"out\" }") +
                   TaskNode("n1", "add", Promise("a", "n0", "out"))),
      Tasks());
  INFO(ok.text);
  CHECK(ok.closure.has_value());
  auto dup =
      Compile(Workflow({{"x", kInt}}, {},
                       TaskNode("n0", "add",
                                Promise("a", "", "x") +
                                    "output_aliases { var: \"o\" alias: \"o1\" } output_aliases { "
                                    "var: \"o\" alias: \"o2\" }")),
              Tasks());
  CHECK(dup.Has(
      "DuplicateAlias", "n0",
      "Duplicate alias [o2] found. An output alias can only be used once in the Workflow."));
  auto dangling = Compile(
      Workflow({{"x", kInt}}, {},
               TaskNode("n0", "add",
                        Promise("a", "", "x") + "output_aliases { var: \"zz\" alias: \"q\" }")),
      Tasks());
  CHECK(dangling.Has("ParameterNotBound", "n0", "Parameter not bound [q]."));
}

TEST_CASE("Interfaces need named, typed variables and always come out with both maps", "[unit]") {
  auto wf = Parse<WorkflowTemplate>(
      "id { resource_type: WORKFLOW name: \"wf\" } interface { inputs { variables { key: \"x\" "
      "value { "
      "description: \"untyped\" } } } } " +
      TaskNode("n0", "noop"));
  auto r = Compile(wf, Tasks());
  CHECK(r.Has("ValueRequired", "start-node", "Value required [param.Type]."));

  // A task without an inputs map gets one when a node uses it, as upstream mutates the task.
  auto task = Parse<CompiledTask>(
      "template { id { resource_type: TASK project: \"p\" domain: \"d\" name: \"bare\" version: "
      "\"v\" } "
      "interface { } container { image: \"img\" } }");
  auto plain = Parse<WorkflowTemplate>("id { resource_type: WORKFLOW name: \"wf\" } " +
                                       TaskNode("n0", "bare"));
  auto ok = Compile(plain, {task});
  INFO(ok.text);
  REQUIRE(ok.closure.has_value());
  CHECK(ok.closure->primary().template_().interface().has_inputs());
  CHECK(ok.closure->primary().template_().interface().has_outputs());
  CHECK(ok.closure->tasks(0).template_().interface().has_inputs());
  CHECK(ok.closure->tasks(0).template_().interface().has_outputs());
}

TEST_CASE("Tasks are checked for id, command, image, resources and pod spec", "[unit]") {
  auto compile = [](const std::string& text) {
    flyte::core::compiler::CompileErrors errors;
    auto out =
        flyte::core::compiler::CompileTask(Parse<flyteidl::core::TaskTemplate>(text), errors);
    return std::make_pair(out.has_value(), errors.List());
  };
  auto has = [](const std::vector<flyte::core::compiler::CompileError>& errors,
                const std::string& code, const std::string& node, const std::string& description) {
    return std::any_of(errors.begin(), errors.end(), [&](const auto& e) {
      return e.code == code && e.node_id == node && e.description == description;
    });
  };
  auto [no_id_ok, no_id] = compile("container { image: \"i\" }");
  CHECK_FALSE(no_id_ok);
  CHECK(has(no_id, "ValueRequired", "root", "Value required [Id]."));

  auto [cmd_ok, cmd] =
      compile("id { name: \"t\" } " + Iface({{"a", kInt}}, {}) + " container { image: \"i\" }");
  CHECK(has(cmd, "ValueRequired", "container", "Value required [command]."));
  auto [img_ok, img] = compile("id { name: \"t\" } container { args: \"x\" }");
  CHECK(has(img, "ValueRequired", "container", "Value required [image]."));

  auto resources = [&](const std::string& value) {
    return compile(
        "id { name: \"t\" } container { image: \"i\" resources { requests { name: CPU value: \"" +
        value + "\" } limits { name: MEMORY value: \"1Gi\" } } }");
  };
  for (const char* good :
       {"1", "500m", "1.5Gi", "2e3", "0.5", "+1", "1Ki", "0", "1E-3", ".5", "100n", "1.5n"}) {
    INFO(good);
    CHECK(resources(good).first);
  }
  for (const char* bad : {"", "abc", "1ki", "1e", "1Kii", "1.2.3", "--1", "1 G", ".e-10"}) {
    INFO(bad);
    auto [ok, errors] = resources(bad);
    CHECK_FALSE(ok);
    CHECK(has(errors, "UnrecognizedValue", "resources.CPU",
              std::string("Unrecognized value [") + bad + "]."));
  }

  auto pod = [&](const std::string& spec) {
    return compile("id { name: \"t\" } k8s_pod { " + spec + " }");
  };
  auto container = [](const std::string& name) {
    return "pod_spec { fields { key: \"containers\" value { list_value { values { struct_value { "
           "fields "
           "{ key: \"name\" value { string_value: \"" +
           name + "\" } } } } } } } }";
  };
  CHECK(pod(container("primary")).first);
  auto [bad_name_ok, bad_name] = pod(container("$Up3R+Invalid"));
  CHECK(has(bad_name, "InvalidValue", "root", "Invalid value [k8s pod spec container name]."));
  auto [bad_spec_ok, bad_spec] =
      pod("pod_spec { fields { key: \"containers\" value { string_value: \"x\" } } }");
  CHECK(has(bad_spec, "InvalidValue", "root", "Invalid value [k8s pod spec]."));
  auto [no_spec_ok, no_spec] = pod("");
  CHECK(has(no_spec, "InvalidValue", "root", "Invalid value [k8s pod spec]."));
}

TEST_CASE("Errors are listed once each, sorted by code then text", "[unit]") {
  auto r =
      Compile(Workflow({}, {{"y", kInt}}, TaskNode("n1", "add") + TaskNode("n0", "add")), Tasks());
  CHECK(r.text ==
        "Collected Errors: 3\n"
        "\tError 0: Code: ParameterNotBound, Node Id: end-node, Description: Parameter not bound "
        "[y].\n"
        "\tError 1: Code: ParameterNotBound, Node Id: n0, Description: Parameter not bound [a].\n"
        "\tError 2: Code: ParameterNotBound, Node Id: n1, Description: Parameter not bound [a].\n");
  auto status = flyte::core::compiler::MakeWorkflowCompiler()->CompileWorkflow(
      Workflow({}, {{"y", kInt}}, TaskNode("n1", "add") + TaskNode("n0", "add")), {}, Tasks(), {});
  REQUIRE_FALSE(status.ok());
  CHECK(status.status().code() == flyte::plugin::StatusCode::kInvalidArgument);
  CHECK(status.status().message() == r.text);
}

TEST_CASE("Requirements are unique and sorted, and need identified sub-workflows", "[unit]") {
  auto compiler = flyte::core::compiler::MakeWorkflowCompiler();
  auto sub = Workflow({}, {}, TaskNode("s0", "b_task") + TaskNode("s1", "a_task"), "sub");
  auto wf = Workflow(
      {}, {},
      TaskNode("n0", "z_task") + TaskNode("n1", "a_task") +
          "nodes { id: \"n2\" workflow_node { sub_workflow_ref { resource_type: WORKFLOW "
          "project: \"p\" domain: \"d\" name: \"sub\" version: \"v\" } } } "
          "nodes { id: \"n3\" workflow_node { launchplan_ref { resource_type: LAUNCH_PLAN "
          "name: \"lp\" } } } "
          "nodes { id: \"b\" branch_node { if_else { case { then_node { id: \"t\" task_node { " +
          TaskRef("c_task") + " } } } else_node { id: \"e\" task_node { " + TaskRef("a_task") +
          " } } } } } failure_node { id: \"f\" task_node { " + TaskRef("f_task") + " } }");
  auto reqs = compiler->GetRequirements(wf, {sub});
  REQUIRE(reqs.ok());
  std::vector<std::string> names;
  for (const auto& id : reqs->task_ids) names.push_back(id.name());
  CHECK(names == std::vector<std::string>{"a_task", "b_task", "c_task", "f_task", "z_task"});
  REQUIRE(reqs->launch_plan_ids.size() == 1);
  CHECK(reqs->launch_plan_ids[0].name() == "lp");

  auto no_id = Parse<WorkflowTemplate>(TaskNode("s0", "a_task"));
  auto bad = compiler->GetRequirements(wf, {no_id});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "Collected Errors: 0\n");
}

TEST_CASE("A workflow of a few thousand nodes compiles", "[unit]") {
  // Each node consumes the previous one and the workflow input; every tenth node also fans in
  // from ten earlier nodes. This guards against quadratic work per node.
  const int kNodes = 3000;
  std::vector<CompiledTask> tasks = Tasks();
  tasks.push_back(Task("wide",
                       {{"a", kInt}, {"b", kInt}, {"c", "collection_type { simple: INTEGER }"}},
                       {{"o", kInt}}));
  std::string body;
  body += TaskNode("n0", "add", Promise("a", "", "x"));
  for (int i = 1; i < kNodes; ++i) {
    std::string extra = Promise("a", "n" + std::to_string(i - 1), "o") + Promise("b", "", "x");
    extra += "inputs { var: \"c\" binding { collection { ";
    for (int k = 2; k <= (i % 10 == 0 ? 11 : 2) && i - k >= 0; ++k) {
      extra += "bindings { promise { node_id: \"n" + std::to_string(i - k) + "\" var: \"o\" } } ";
    }
    extra += "} } } upstream_node_ids: \"n" + std::to_string(i - 1) + "\"";
    body += TaskNode("n" + std::to_string(i), "wide", extra);
  }
  body += Output("y", "n" + std::to_string(kNodes - 1), "o");
  auto wf = Workflow({{"x", kInt}}, {{"y", kInt}}, body);
  auto start = std::chrono::steady_clock::now();
  auto r = Compile(wf, tasks);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  INFO(r.text);
  REQUIRE(r.closure.has_value());
  CHECK(r.closure->primary().template_().nodes_size() == kNodes + 2);
  // About 0.1 s on a shared build machine; a quadratic slip would take far longer.
  CHECK(ms < 5000);
}
