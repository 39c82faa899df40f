// test_gui's main: a QApplication (offscreen unless QT_QPA_PLATFORM says otherwise) around a
// Catch2 session, with QSettings and XDG_DATA_HOME redirected to a temporary folder so tests leave
// no recent-models entries or autosave copies behind.
#define CATCH_CONFIG_RUNNER
#include <QApplication>
#include <QSettings>
#include <QTemporaryDir>
#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QTemporaryDir settings;
  // Autosave copies and user plugin folders live under XDG_DATA_HOME: keep them out of $HOME.
  qputenv("XDG_DATA_HOME", settings.path().toUtf8());
  QSettings::setDefaultFormat(QSettings::IniFormat);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings.path());
  QApplication app(argc, argv);
  QApplication::setOrganizationName("mechscope-tests");
  QApplication::setApplicationName("test_gui");
  return Catch::Session().run(argc, argv);
}
