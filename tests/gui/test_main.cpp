// test_gui's main: a QApplication (offscreen unless QT_QPA_PLATFORM says otherwise) around a
// Catch2 session, with QSettings redirected to a temporary folder so tests leave no recent-models
// entries behind.
#define CATCH_CONFIG_RUNNER
#include <QApplication>
#include <QSettings>
#include <QTemporaryDir>
#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QTemporaryDir settings;
  QSettings::setDefaultFormat(QSettings::IniFormat);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings.path());
  QApplication app(argc, argv);
  QApplication::setOrganizationName("mechscope-tests");
  QApplication::setApplicationName("test_gui");
  return Catch::Session().run(argc, argv);
}
