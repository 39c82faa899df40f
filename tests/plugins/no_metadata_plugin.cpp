// A probe plugin without its metadata file (Q_PLUGIN_METADATA lacks FILE): reported, not loaded.
#include "tests/plugins/stub_plugin.h"

class NoMetadataPlugin : public QObject, public mechscope::test::StubPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID "org.mechscope.ProbePlugin/1.0")
  Q_INTERFACES(mechscope::ProbePlugin)
};

#include "no_metadata_plugin.moc"
