/** Types for asl-validator 4, which ships none (only what the tests use). */
declare module 'asl-validator' {
  interface AslValidationError {
    readonly 'Error code': string;
    readonly Message: string;
  }
  interface AslValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly AslValidationError[];
    errorsText(separator?: string): string;
  }
  /** Careful: it adds `QueryLanguage` to every state of `definition`; pass a copy. */
  function aslValidator(
    definition: object,
    options?: { readonly checkPaths: boolean; readonly checkArn: boolean },
  ): AslValidationResult;
  export = aslValidator;
}
