#include "gateway/upstream/upstream_set.h"

namespace tollgate::gateway {

UpstreamPick UpstreamSet::pick(unsigned /*attempt*/) const { return UpstreamPick{upstream_}; }

}  // namespace tollgate::gateway
