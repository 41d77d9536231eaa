// The Kubernetes name checks FlyteAdmin applies to labels and project ids
// (k8s.io/apimachinery/pkg/util/validation), with the same error strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace flyte::plugins::manager {

// Each returns the list of problems (empty when valid), worded exactly as apimachinery does.
std::vector<std::string> IsQualifiedName(std::string_view value);
std::vector<std::string> IsValidLabelValue(std::string_view value);
std::vector<std::string> IsDNS1123Label(std::string_view value);
std::vector<std::string> IsDNS1123Subdomain(std::string_view value);

}  // namespace flyte::plugins::manager
