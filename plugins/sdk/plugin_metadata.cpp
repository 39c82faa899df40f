#include "plugins/sdk/plugin_metadata.h"

#include <QJsonValue>

#include "plugins/sdk/probe_plugin.h"

namespace mechscope {

namespace {

/// The string field `key` of `meta`, or nullopt with `error` set.
std::optional<QString> string_field(const QJsonObject& meta, const char* key, QString* error) {
  const QJsonValue v = meta.value(QLatin1String(key));
  if (!v.isString()) {
    *error = v.isUndefined()
                 ? QStringLiteral("Its metadata has no \"%1\" field.").arg(key)
                 : QStringLiteral("Its metadata field \"%1\" is not a string.").arg(key);
    return std::nullopt;
  }
  return v.toString();
}

}  // namespace

std::optional<PluginInfo> read_plugin_info(const QJsonObject& loader_meta, QString* error) {
  if (loader_meta.isEmpty()) {
    *error = QStringLiteral("It is not a Qt plugin (it carries no plugin metadata).");
    return std::nullopt;
  }
  const QString iid = loader_meta.value(QLatin1String("IID")).toString();
  if (iid != QLatin1String(kProbePluginIid)) {
    *error = QStringLiteral("It is a Qt plugin for \"%1\", not a mechscope probe plugin (\"%2\").")
                 .arg(iid, QLatin1String(kProbePluginIid));
    return std::nullopt;
  }
  const QJsonValue user = loader_meta.value(QLatin1String("MetaData"));
  if (!user.isObject() || user.toObject().isEmpty()) {
    *error = QStringLiteral(
        "Its metadata is missing: Q_PLUGIN_METADATA needs FILE \"<plugin>.json\" with name, "
        "version, sdk_version and description.");
    return std::nullopt;
  }
  const QJsonObject meta = user.toObject();
  PluginInfo info;
  const auto name = string_field(meta, "name", error);
  if (!name) return std::nullopt;
  if (name->trimmed().isEmpty()) {
    *error = QStringLiteral("Its metadata field \"name\" is empty.");
    return std::nullopt;
  }
  const auto version = string_field(meta, "version", error);
  if (!version) return std::nullopt;
  const auto description = string_field(meta, "description", error);
  if (!description) return std::nullopt;
  const QJsonValue sdk = meta.value(QLatin1String("sdk_version"));
  // JSON numbers are doubles: accept only whole numbers.
  if (!sdk.isDouble() || sdk.toDouble() != double(sdk.toInt())) {
    *error = QStringLiteral("Its metadata field \"sdk_version\" is missing or not an integer.");
    return std::nullopt;
  }
  info.name = *name;
  info.version = *version;
  info.description = *description;
  info.sdk_version = sdk.toInt();
  return info;
}

std::optional<QString> sdk_incompatibility(const PluginInfo& info) {
  if (info.sdk_version == kPluginSdkVersion) return std::nullopt;
  return QStringLiteral(
             "Plugin \"%1\" was built for plugin SDK version %2, but this mechscope implements "
             "version %3; rebuild it against this mechscope.")
      .arg(info.name)
      .arg(info.sdk_version)
      .arg(kPluginSdkVersion);
}

}  // namespace mechscope
