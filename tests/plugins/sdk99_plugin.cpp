// A plugin whose metadata claims SDK version 99: the manager must refuse it without loading it.
// Loading would run the initializer below, which the test looks for.
#include <QtGlobal>

#include "tests/plugins/stub_plugin.h"

namespace {
const bool kLoaded = [] { return qputenv("MECHSCOPE_TEST_SDK99_LOADED", "1"); }();
}  // namespace

class Sdk99Plugin : public QObject, public mechscope::test::StubPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID "org.mechscope.ProbePlugin/1.0" FILE "sdk99_plugin.json")
  Q_INTERFACES(mechscope::ProbePlugin)
};

#include "sdk99_plugin.moc"
