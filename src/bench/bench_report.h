#pragma once
// Output of `dsinfer bench`: a text table (per case, per phase: time, bytes,
// FLOPs, fractions of the ceilings) and the JSON document of issue 6:
// {"ceilings": {...}, "cases": [{"phase", "weights", "batch", "context",
// "time_ms", "bytes", "flops", "bw_fraction", "compute_fraction", ...}]}.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/layer_bench.h"
#include "bench/machine_ceilings.h"

namespace dsinfer::bench {

nlohmann::json report_json(const Ceilings& c, const std::vector<CaseResult>& cases, const nlohmann::json& machine);
std::string report_table(const Ceilings& c, const std::vector<CaseResult>& cases);

}  // namespace dsinfer::bench
