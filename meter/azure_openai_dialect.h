#pragma once

#include "meter/dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {

// Azure OpenAI: the OpenAI API under Azure's paths (meter/azure_openai_path.h). The answers are
// OpenAI's, with Azure's content-filter additions (prompt_filter_results, a first stream chunk
// with no choices), so the OpenAI dialect reads them. The model a call is routed on is the
// deployment: the path's, or with the v1 API the body's "model" (which names a deployment); the
// upstream's `deployments` map turns it into the model to price.
class AzureOpenAiDialect final : public Dialect {
 public:
  std::string_view name() const override { return "azure_openai"; }
  std::optional<RequestError> inspectRequest(std::string_view path, std::string_view body,
                                             RequestInfo& info) const override;
  std::optional<std::string> rewriteRequest(std::string_view body,
                                            RequestInfo& info) const override;
  std::unique_ptr<ResponseMeter> newResponseMeter(const RequestInfo& info, int status,
                                                  std::string_view content_type) const override;
  std::string errorBody(int status, std::string_view code, std::string_view message) const override;

 private:
  OpenAiDialect openai_;
};

}  // namespace tollgate::meter
