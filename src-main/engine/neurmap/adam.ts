import * as tf from '@tensorflow/tfjs';

export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Serialisable Adam state of one network: the step count and both moments, one array per variable. */
export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

/**
 * Adam (Kingma & Ba) in PyTorch's form, as the reference uses it:
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,
 *   θ ← θ − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε).
 * The learning rate is given per step (the trainer applies the linear decay). Written here rather than taken from
 * tf.train.adam so that its state can be checkpointed and restored exactly, and so that every worker of the
 * data-parallel trainer applies the identical update.
 */
export class Adam {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private step = 0;

  constructor(
    readonly variables: readonly tf.Variable[],
    readonly settings: AdamSettings,
  ) {
    this.m = tf.tidy(() => variables.map((x) => tf.variable(tf.zerosLike(x), false)));
    this.v = tf.tidy(() => variables.map((x) => tf.variable(tf.zerosLike(x), false)));
  }

  get stepCount(): number {
    return this.step;
  }

  /** One update with `grads` aligned with `variables` (the caller keeps ownership of `grads`). */
  apply(grads: readonly tf.Tensor[], lr: number): void {
    if (grads.length !== this.variables.length) throw new Error(`Adam: ${grads.length} gradients for ${this.variables.length} variables`);
    this.step++;
    const { beta1, beta2, epsilon } = this.settings;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (let i = 0; i < grads.length; i++) {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        if (lr === 0) continue;
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), epsilon));
        this.variables[i].assign(tf.sub(this.variables[i], tf.mul(update, lr)));
      }
    });
  }

  getState(): AdamState {
    return {
      step: this.step,
      m: this.m.map((t) => (t.dataSync() as Float32Array).slice()),
      v: this.v.map((t) => (t.dataSync() as Float32Array).slice()),
    };
  }

  setState(s: AdamState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new Error(`Adam state holds ${s.m.length} moments, the network has ${this.m.length} variables`);
    }
    for (let i = 0; i < this.m.length; i++) {
      const shape = this.m[i].shape;
      const size = this.m[i].size;
      if (s.m[i].length !== size || s.v[i].length !== size) throw new Error(`Adam state for variable ${i} has the wrong size`);
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(s.m[i], shape));
        this.v[i].assign(tf.tensor(s.v[i], shape));
      });
    }
    this.step = s.step;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
