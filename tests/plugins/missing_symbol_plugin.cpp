// A plugin calling a function no library defines (linked with undefined symbols allowed): loading
// it must fail with a reported problem, not abort the program at the first call.
#include "tests/plugins/stub_plugin.h"

extern "C" int mechscope_test_undefined_function();

class MissingSymbolPlugin : public QObject, public mechscope::test::StubPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID "org.mechscope.ProbePlugin/1.0" FILE "missing_symbol_plugin.json")
  Q_INTERFACES(mechscope::ProbePlugin)

 public:
  QString name() const override { return QString::number(mechscope_test_undefined_function()); }
};

#include "missing_symbol_plugin.moc"
