// cpu::linear_many (several linears in one parallel region) gives each call
// exactly what cpu::linear gives it alone: every format, token counts on both
// sides of the dot-form / panel split, calls sharing an input.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/row_kernel.h"

namespace dsinfer {
namespace {

struct Weight {
  std::vector<uint8_t> data;
  std::vector<float> scale;
  LinearWeight w;
};

Weight make(WeightFormat f, int64_t rows, int64_t cols, std::mt19937& gen, bool bf16_inputs = false) {
  Weight m;
  m.w.format = f;
  m.w.rows = rows;
  m.w.cols = cols;
  m.w.bf16_inputs = bf16_inputs;
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> nd(0.f, 0.05f);
  switch (f) {
    case WeightFormat::Int8Channel:
      m.data.resize(static_cast<size_t>(rows * cols));
      for (auto& b : m.data) b = static_cast<uint8_t>(byte(gen) % 255);  // 0..254 as int8: -128..126
      m.scale.assign(static_cast<size_t>(rows), 1e-3f);
      break;
    case WeightFormat::Fp8Block:
      m.data.resize(static_cast<size_t>(rows * cols));
      for (auto& b : m.data) b = static_cast<uint8_t>(byte(gen) & 0x77);  // finite, small codes
      m.scale.assign(static_cast<size_t>((rows + 127) / 128 * ((cols + 127) / 128)), 0.5f);
      break;
    case WeightFormat::BF16:
      m.data.resize(static_cast<size_t>(rows * cols * 2));
      for (size_t i = 0; i < m.data.size(); i += 2) {
        const float v = nd(gen);
        uint32_t u;
        std::memcpy(&u, &v, 4);
        m.data[i] = static_cast<uint8_t>(u >> 16);
        m.data[i + 1] = static_cast<uint8_t>(u >> 24);
      }
      break;
    case WeightFormat::F32:
      m.data.resize(static_cast<size_t>(rows * cols * 4));
      for (size_t i = 0; i < m.data.size(); i += 4) {
        const float v = nd(gen);
        std::memcpy(m.data.data() + i, &v, 4);
      }
      break;
  }
  m.w.data = m.data.data();
  m.w.scale = m.scale.empty() ? nullptr : m.scale.data();
  return m;
}

TEST(LinearMany, EveryCallMatchesItsOwnLinear) {
  std::mt19937 gen(5);
  std::vector<Weight> ws;
  ws.push_back(make(WeightFormat::Int8Channel, 300, 256, gen));
  ws.push_back(make(WeightFormat::Int8Channel, 200, 256, gen));  // shares the first call's input
  ws.push_back(make(WeightFormat::Fp8Block, 130, 384, gen));
  ws.push_back(make(WeightFormat::BF16, 90, 200, gen));
  ws.push_back(make(WeightFormat::BF16, 64, 256, gen, /*bf16_inputs=*/true));
  ws.push_back(make(WeightFormat::F32, 33, 70, gen));  // no row kernel: its own linear
  for (int64_t tokens : {1, 3, 9, 20, 80}) {
    std::normal_distribution<float> nd;
    std::vector<std::vector<float>> xs, ys, refs;
    for (size_t i = 0; i < ws.size(); ++i) {
      if (i == 1) {
        xs.push_back(xs[0]);
      } else {
        xs.emplace_back(static_cast<size_t>(tokens * ws[i].w.cols));
        for (auto& v : xs.back()) v = nd(gen);
      }
      ys.emplace_back(static_cast<size_t>(tokens * ws[i].w.rows), -7.f);
      refs.emplace_back(ys.back().size());
      cpu::linear(ws[i].w, xs[i].data(), tokens, refs[i].data());
    }
    std::vector<cpu::LinearCall> calls;
    for (size_t i = 0; i < ws.size(); ++i) calls.push_back({&ws[i].w, xs[i].data(), tokens, ys[i].data()});
    cpu::linear_many(calls);
    for (size_t i = 0; i < ws.size(); ++i)
      for (size_t j = 0; j < ys[i].size(); ++j)
        ASSERT_EQ(ys[i][j], refs[i][j]) << "call " << i << " tokens " << tokens << " at " << j;
  }
}

}  // namespace
}  // namespace dsinfer
