import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

const config: CodegenConfig = {
  schema: '../../api/schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**/*'],
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: {
        // persisted-documents.json: {"sha256:<hex>": "<document>"}, what
        // `shipmentapp persisted import` loads into the allowlist.
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      // urql's cache adds __typename to every selection: add it here, so the
      // documents hashed and persisted are the ones sent.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: {
        scalars: { ID: 'string', Cursor: 'string', Time: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
