#!/usr/bin/env python3
"""Projected DeepSeek-R1 decode TPOT and tokens/s at EP16/32/64/128 (docs/scaling.md).

A projection, not a measurement: per-rank bytes read per step divided by an
effective memory bandwidth, plus the expert-parallel dispatch + combine of every
MoE layer on a stated network (latency alpha, bandwidth beta). The inputs that
were measured in this repo are passed in (the stream ratio from `dsinfer bench`,
the collective latency from `dsinfer bench-comm`); everything else is R1's
shapes. Usage: scripts/project_scaling.py [--bw GB/s] [--eta ratio] [--net GB/s]
[--alpha us] [--batch per rank] [--context tokens] [--accept a]
"""
import argparse

H, INTER, MOE_INTER, EXPERTS, TOPK = 7168, 18432, 2048, 256, 8
DENSE_LAYERS, MOE_LAYERS, VOCAB = 3, 58, 129280
HEADS, Q_LORA, KV_LORA, NOPE, ROPE, V = 128, 1536, 512, 128, 64, 128

def attention_bytes():  # W8A8: int8 projections, kv_b_proj bf16
    q_a, q_b = H * Q_LORA, Q_LORA * HEADS * (NOPE + ROPE)
    kv_a, o = H * (KV_LORA + ROPE), HEADS * V * H
    kv_b = KV_LORA * HEADS * (NOPE + V) * 2
    return q_a + q_b + kv_a + o + kv_b

def expert_bytes():
    return 3 * H * MOE_INTER

def step(ep, b, ctx, tokens_per_seq, a):
    rows = b * tokens_per_seq                    # verify rows per rank (1 + drafts each)
    kv = b * ctx * (KV_LORA + 2 * ROPE)          # C8 latent + bf16 rope per layer
    active = min(EXPERTS // ep, TOPK * rows)     # perfect EPLB: balanced local experts
    moe_layer = attention_bytes() + kv + expert_bytes() * (1 + active)  # + shared expert
    dense_layer = attention_bytes() + kv + 3 * H * INTER
    head = VOCAB * H * 2 / ep                    # lm_head vocabulary-parallel over the EP group
    mtp = (moe_layer + VOCAB * H * 2 / ep) if tokens_per_seq > 1 else 0  # the draft pass
    weight_bytes = DENSE_LAYERS * dense_layer + MOE_LAYERS * moe_layer + head + mtp
    dispatch = TOPK * rows * H * 2 * (ep - 1) / ep  # bf16 rows leaving this rank
    comm_per_layer = 2 * (a.alpha * 1e-6 + dispatch / (a.net * 1e9))
    t_mem = weight_bytes / (a.eta * a.bw * 1e9)
    t_comm = (MOE_LAYERS + (1 if mtp else 0)) * comm_per_layer
    return t_mem, t_comm

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bw", type=float, default=300.0, help="memory read ceiling per rank, GB/s")
    p.add_argument("--eta", type=float, default=0.52, help="fraction of the ceiling the kernels stream")
    p.add_argument("--net", type=float, default=50.0, help="network bandwidth per rank, GB/s")
    p.add_argument("--alpha", type=float, default=15.0, help="latency of one all-to-all-v, us")
    p.add_argument("--batch", type=int, default=48, help="sequences per rank")
    p.add_argument("--context", type=int, default=4096, help="tokens in each sequence's cache")
    p.add_argument("--accept", type=float, default=0.7, help="MTP1 acceptance (0: no MTP)")
    a = p.parse_args()
    tps = 1 + a.accept if a.accept > 0 else 1
    print(f"inputs: {a.bw:g} GB/s x {a.eta:g} streamed, network {a.net:g} GB/s + {a.alpha:g} us per all-to-all, "
          f"{a.batch} sequences per rank, {a.context}-token context, MTP1 acceptance {a.accept:g}")
    print("| EP | TPOT ms (memory + comm) | per-token ms | tokens/s per rank | tokens/s total |")
    print("|---|---|---|---|---|")
    for ep in (16, 32, 64, 128):
        t_mem, t_comm = step(ep, a.batch, a.context, 2 if a.accept > 0 else 1, a)
        t = t_mem + t_comm
        per_token = t / tps
        print(f"| {ep} | {t * 1e3:.1f} ({t_mem * 1e3:.1f} + {t_comm * 1e3:.1f}) | {per_token * 1e3:.1f} | "
              f"{a.batch * tps / t:.0f} | {ep * a.batch * tps / t:.0f} |")

if __name__ == "__main__":
    main()
