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
int cmd_attention(const std::vector<std::string>& argv);  // = run attention
int cmd_run(const std::vector<std::string>& argv);
int cmd_probes(const std::vector<std::string>& argv);
int cmd_sae_train(const std::vector<std::string>& argv);
#ifdef MECHSCOPE_CLI_HAS_QT
// These need Qt (views, QPluginLoader): built only when it is found.
int cmd_export(const std::vector<std::string>& argv);
int cmd_plugin(const std::vector<std::string>& argv);
#endif

}  // namespace mechscope::cli
