#pragma once
/// Names in a `.mscope` session file shared by its writer and reader (docs/session-format.md).
namespace mechscope::session_layout {

inline constexpr char kKind[] = "mechscope-session";  // root attribute `kind`
inline constexpr char kKindAttr[] = "kind";
inline constexpr char kFormatVersionAttr[] = "format_version";
inline constexpr char kVersionAttr[] = "mechscope_version";
inline constexpr char kCreatedAttr[] = "created";
/// Groups `/model`, `/prompts`, `/views` hold their content as this JSON string attribute.
inline constexpr char kJsonAttr[] = "json";
inline constexpr char kModelGroup[] = "model";
inline constexpr char kPromptsGroup[] = "prompts";
inline constexpr char kViewsGroup[] = "views";
/// `/results/<id>/` per Result, with these attributes and one float32 dataset per array.
inline constexpr char kResultsGroup[] = "results";
inline constexpr char kProbeAttr[] = "probe";
inline constexpr char kTitleAttr[] = "title";
inline constexpr char kMetaAttr[] = "meta";
inline constexpr char kOrderAttr[] = "order";
/// On each array dataset: `axes` (JSON list of axis names) and `labels_<axis name>`.
inline constexpr char kAxesAttr[] = "axes";
inline constexpr char kLabelsPrefix[] = "labels_";

}  // namespace mechscope::session_layout
