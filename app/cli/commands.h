#pragma once
// The CLI commands; each takes the arguments after its name and returns the exit status.
#include <string>
#include <vector>

namespace mechscope::cli {

int cmd_info(const std::vector<std::string>& argv);
int cmd_generate(const std::vector<std::string>& argv);
int cmd_cache(const std::vector<std::string>& argv);
int cmd_train(const std::vector<std::string>& argv);
int cmd_evaluate(const std::vector<std::string>& argv);
int cmd_card(const std::vector<std::string>& argv);

}  // namespace mechscope::cli
