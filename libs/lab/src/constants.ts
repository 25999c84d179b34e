/** Namespace of Strait's own objects in every member cluster. */
export const STRAIT_NAMESPACE = 'strait-system';
