// What flytectl does with a pyflyte package, for the end-to-end tests and benchmarks: read the
// .pb files in order, hydrate identifiers (project, domain, version into every identifier and
// every reference) and register each with the matching AdminService create RPC.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/admin/task.pb.h"
#include "flyteidl/admin/workflow.pb.h"
#include "flyteidl/service/admin.grpc.pb.h"

namespace flyte::test {

struct PackageEntry {
  std::string file;  // base name, e.g. "41_core.flyte_basics.basic_workflow.my_wf_2.pb"
  std::variant<flyteidl::admin::TaskSpec, flyteidl::admin::WorkflowSpec, flyteidl::admin::LaunchPlan> spec;
};

// Every NN_<name>_{1,2,3}.pb of `dir`, sorted by file name as flytectl sorts them. Throws on a
// file that parses as none of the three messages.
std::vector<PackageEntry> ReadPackage(const std::string& dir);

struct Target {
  std::string project;
  std::string domain;
  std::string version;
  std::string fast_upload_location = "file:///tmp/flyteadmin-fast/archive.tar.gz";
};

// flytectl's hydration (register_util.go): fills empty or templated project/domain/version
// and, for tasks, the fast-register placeholders in container args.
void Hydrate(PackageEntry& entry, const Target& target);

struct RegisterResult {
  std::string file;
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
};

// Registers one hydrated entry; returns the RPC's status.
RegisterResult Register(flyteidl::service::AdminService::Stub& stub, const PackageEntry& entry,
                        const Target& target);

// The fixture package of the shared fixtures.
std::string FlytesnacksCoreDir();

}  // namespace flyte::test
