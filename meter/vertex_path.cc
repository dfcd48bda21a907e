#include "meter/vertex_path.h"

namespace tollgate::meter {

std::string_view vertexModelAndMethod(std::string_view path, std::string_view publisher) {
  constexpr std::string_view kVersions[] = {"/v1/projects/", "/v1beta1/projects/"};
  constexpr std::string_view kLocations = "/locations/";
  constexpr std::string_view kPublishers = "/publishers/";
  constexpr std::string_view kModels = "/models/";
  for (std::string_view version : kVersions) {
    if (path.substr(0, version.size()) != version) continue;
    std::string_view rest = path.substr(version.size());
    const size_t project_end = rest.find('/');
    if (project_end == 0 || project_end == std::string_view::npos) return {};
    rest = rest.substr(project_end);
    if (rest.substr(0, kLocations.size()) != kLocations) return {};
    rest = rest.substr(kLocations.size());
    const size_t location_end = rest.find('/');
    if (location_end == 0 || location_end == std::string_view::npos) return {};
    rest = rest.substr(location_end);
    if (rest.substr(0, kPublishers.size()) != kPublishers) return {};
    rest = rest.substr(kPublishers.size());
    if (rest.substr(0, publisher.size()) != publisher) return {};
    rest = rest.substr(publisher.size());
    if (rest.substr(0, kModels.size()) != kModels) return {};
    return rest.substr(kModels.size());
  }
  return {};
}

}  // namespace tollgate::meter
