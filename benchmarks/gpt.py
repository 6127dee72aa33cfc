"""A small character GPT, nanoGPT's model and training in brief: what `quality.py --gpt` races the recurrent recipe.

The model is nanoGPT's `model.py` (Karpathy) without its extras: token and position embeddings, pre-LayerNorm blocks of
causal self-attention (`F.scaled_dot_product_attention`) and a 4× GELU MLP, a final LayerNorm and a decoder tied to the
token embedding. Training is nanoGPT's `train.py` for characters: random windows of `block` characters from the
training text, AdamW (betas 0.9/0.99, weight decay 0.1 on the matrices), linear warm-up for 100 steps, then a cosine
decay to lr/10, here over the wall-clock budget instead of a step count (the schedule reaches its end when the time
does). Gradients are clipped at 1.

Evaluation reads the whole validation tail in consecutive windows of `block` characters and averages the loss of every
position, as nanoGPT's `estimate_loss` does over random windows (a character early in a window sees little context; the
recurrent model, read by the learner in 32 streams, carries its state across windows). At the end it also prints the
loss with every character read with at least half a block of context (windows overlapping by half), the reading
fairest to the transformer. The clock stops while it evaluates, so the transformer's seconds are training only.
"""
import math, time
import torch, torch.nn as nn, torch.nn.functional as F

CONFIGS = { # nanoGPT's CPU configuration (its README's "shakespeare_char" on a MacBook), and ours for this CPU
    'nanogpt': dict(n_layer=4, n_head=4, n_embd=128, block=64, bs=12, lr=1e-3),
    'wide':    dict(n_layer=4, n_head=4, n_embd=192, block=128, bs=32, lr=2e-3),
}

class Block(nn.Module):
    "Pre-LayerNorm transformer block: causal self-attention, then a 4× MLP, each added to the residual stream"
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.qkv, self.proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def attend(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in self.qkv(x).split(C, 2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attend(self.ln1(x))
        return x + self.mlp(self.ln2(x))

class GPT(nn.Module):
    "A character GPT: ids (B, T) -> next-character logits (B, T, vocab_sz)"
    def __init__(self, vocab_sz, n_layer, n_head, n_embd, block):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab_sz, n_embd), nn.Embedding(block, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln, self.head = nn.LayerNorm(n_embd), nn.Linear(n_embd, vocab_sz, bias=False)
        self.head.weight = self.tok.weight
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)): nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None: nn.init.zeros_(m.bias)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        return self.head(self.ln(self.blocks(x)))

def windows_loss(model, ids, block, bs=256):
    "Mean loss (nats/char) over every position of `ids` read in consecutive windows of `block` characters"
    n = (len(ids) - 1) // block * block
    x, y = ids[:n].view(-1, block), ids[1:n + 1].view(-1, block)
    model.eval()
    with torch.inference_mode():
        total = sum(F.cross_entropy(model(xb).flatten(0, 1), yb.flatten(), reduction='sum').item()
                    for xb, yb in zip(x.split(bs), y.split(bs)))
    model.train()
    return total / n

def strided_loss(model, ids, block, bs=256):
    "Mean loss over `ids` in windows of `block` overlapping by half: each character sees `block // 2` or more before it"
    half = block // 2
    starts = torch.arange(0, len(ids) - block, half)
    x = torch.stack([ids[i:i + block] for i in starts]); y = torch.stack([ids[i + 1:i + block + 1] for i in starts])
    model.eval()
    with torch.inference_mode():
        losses = torch.cat([F.cross_entropy(model(xb).flatten(0, 1), yb.flatten(), reduction='none').view(-1, block)
                            for xb, yb in zip(x.split(bs), y.split(bs))])
    model.train()
    return torch.cat([losses[0], losses[1:, half:].flatten()]).mean().item() # later windows: only their second half

def lr_at(frac, step, lr, warmup=100):
    "Linear warm-up over `warmup` steps, then cosine from `lr` to `lr/10` as `frac` (of the time budget) goes 0 → 1"
    if step < warmup: return lr * (step + 1) / warmup
    return lr / 10 + (lr - lr / 10) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.)))

def train_gpt(train_ids, valid_ids, vocab_sz, budget, n_layer, n_head, n_embd, block, bs, lr, every=60., seed=42):
    "Train a `GPT` for `budget` seconds of training; print and return (seconds, validation loss) every `every` seconds"
    torch.manual_seed(seed)
    model = GPT(vocab_sz, n_layer, n_head, n_embd, block)
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    others = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': matrices, 'weight_decay': 0.1}, {'params': others, 'weight_decay': 0.}],
                            lr=lr, betas=(0.9, 0.99))
    g = torch.Generator().manual_seed(seed)
    print(f"GPT {n_layer} layers, {n_head} heads, {n_embd} wide, block {block}, bs {bs}, lr {lr}: "
          f"{sum(p.numel() for p in model.parameters()):,} parameters", flush=True)
    points, trained, step, next_eval = [], 0., 0, every
    while trained < budget:
        start = time.perf_counter()
        for o in opt.param_groups: o['lr'] = lr_at(trained / budget, step, lr)
        i = torch.randint(len(train_ids) - block - 1, (bs,), generator=g)
        x = torch.stack([train_ids[j:j + block] for j in i])
        y = torch.stack([train_ids[j + 1:j + block + 1] for j in i])
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True); loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.)
        opt.step()
        trained += time.perf_counter() - start; step += 1
        if trained >= next_eval or trained >= budget:
            points.append((trained, windows_loss(model, valid_ids, block)))
            print(f"{trained:8.1f} s  step {step:>6}  train_loss {loss.item():.4f}  valid_loss {points[-1][1]:.4f}",
                  flush=True)
            next_eval += every
    print(f"at the end, every character read with at least {block // 2} characters of context: "
          f"valid_loss {strided_loss(model, valid_ids, block):.4f}", flush=True)
    return points
