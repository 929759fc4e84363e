/** A module whose default export is not a model class (load_model_test.ts). */
export default 42;
