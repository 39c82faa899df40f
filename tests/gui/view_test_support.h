#pragma once
// What the view tests share: synthetic arrays and Results shaped as the probes write them, a
// view shown on screen, files read back, and a check that a rendered figure is not blank.
#include <QFile>
#include <QImage>
#include <QTest>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/session/result.h"

namespace mechscope::test {

/// An axis named `name` with labels prefix0 … prefix{n-1}.
inline Axis labelled(const std::string& name, const std::string& prefix, int n) {
  Axis a{name, {}};
  for (int i = 0; i < n; ++i) a.labels.push_back(prefix + std::to_string(i));
  return a;
}

inline Array array(std::vector<int64_t> shape, std::vector<float> data, std::vector<Axis> axes) {
  Array a{std::move(shape), std::move(data), std::move(axes)};
  a.validate("test array");
  return a;
}

/// An array whose flat element i is f(i).
inline Array filled(std::vector<int64_t> shape, std::vector<Axis> axes, float (*f)(int64_t)) {
  Array a;
  a.shape = std::move(shape);
  a.axes = std::move(axes);
  for (int64_t i = 0; i < a.numel(); ++i) a.data.push_back(f(i));
  a.validate("test array");
  return a;
}

inline std::shared_ptr<const Result> shared(Result r) {
  return std::make_shared<const Result>(std::move(r));
}

/// The view of `r`, 1000 × 800, shown and exposed.
template <class View>
std::unique_ptr<View> shown(Result r) {
  auto view = std::make_unique<View>(shared(std::move(r)));
  view->resize(1000, 800);
  view->show();
  REQUIRE(QTest::qWaitForWindowExposed(view.get()));
  return view;
}

inline QByteArray readAll(const std::filesystem::path& path) {
  QFile f(QString::fromStdString(path.string()));
  REQUIRE(f.open(QIODevice::ReadOnly));
  return f.readAll();
}

/// Colours of a sample of pixels: a blank figure has one.
inline size_t distinctColours(const QImage& image) {
  std::set<QRgb> colours;
  for (int y = 0; y < image.height(); y += 3)
    for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
  return colours.size();
}

}  // namespace mechscope::test
