/**
 * The sim's optimiser: AdamW (decoupled weight decay, bias-corrected moments) or plain SGD, with grad-norm
 * clipping, over a Float64Array of parameters. Mirrors torch.optim.AdamW and clip_grad_norm_ so the sim's
 * `optim` args mean what they mean for the PyTorch workers.
 */

export interface OptimConfig {
  kind: 'adam' | 'sgd';
  /** Learning rate (parameter units per step). */
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Max global L2 norm of the gradient; 0 = no clipping. */
  gradClip: number;
}

export interface OptimState {
  /** Steps taken (Adam's t). */
  t: number;
  m: Float64Array;
  v: Float64Array;
}

export function newOptimState(n: number): OptimState {
  return { t: 0, m: new Float64Array(n), v: new Float64Array(n) };
}

/** L2 norm of g. */
export function l2(g: Float64Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/**
 * One step on w (in place) with gradient g (scaled in place when clipped). Returns the pre-clip norm.
 */
export function optimStep(w: Float64Array, g: Float64Array, st: OptimState, cfg: OptimConfig): number {
  const norm = l2(g);
  if (cfg.gradClip > 0 && norm > cfg.gradClip) {
    const f = cfg.gradClip / (norm + 1e-6); // torch: max_norm / (total_norm + 1e-6)
    for (let i = 0; i < g.length; i++) g[i] *= f;
  }
  st.t++;
  if (cfg.kind === 'sgd') {
    for (let i = 0; i < w.length; i++) w[i] -= cfg.lr * (g[i] + cfg.weightDecay * w[i]);
    return norm;
  }
  const bc1 = 1 - cfg.beta1 ** st.t;
  const bc2 = 1 - cfg.beta2 ** st.t;
  for (let i = 0; i < w.length; i++) {
    w[i] -= cfg.lr * cfg.weightDecay * w[i]; // decoupled decay first, as torch AdamW
    st.m[i] = cfg.beta1 * st.m[i] + (1 - cfg.beta1) * g[i];
    st.v[i] = cfg.beta2 * st.v[i] + (1 - cfg.beta2) * g[i] * g[i];
    const mHat = st.m[i] / bc1;
    const vHat = st.v[i] / bc2;
    w[i] -= (cfg.lr * mHat) / (Math.sqrt(vHat) + cfg.eps);
  }
  return norm;
}
