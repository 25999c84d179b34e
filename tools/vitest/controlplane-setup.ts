// Replaced by libs/testing's shared control plane.
export default function setup(): void {}
