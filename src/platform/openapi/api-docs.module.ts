/**
 * What the API serves about itself (API_DOCS, app-config.ts): `GET /openapi.json`, the
 * OpenAPI document of the running app (built once, on first request), and with `ui`
 * Swagger UI at `GET /docs`, its assets from swagger-ui-dist (a dependency of
 * @nestjs/swagger) on this origin, read from disk only when asked for: nothing of it is
 * bundled into the API Lambda, where `ui` is refused.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type DynamicModule,
  Controller,
  Get,
  HttpStatus,
  type INestApplication,
  Injectable,
  Module,
  Param,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { ApiDocs } from '../../config/app-config';
import { ApiException } from '../api-error';
import { ApiAnswers } from './api-answers';
import { NOT_MODIFIED, sendRevalidated, VALIDATOR } from '../revalidated-answer';
import { buildOpenApiDocument } from './openapi-document';

/**
 * The same document for everyone, changing only with a deployment: it may be stored,
 * unlike every other answer (no-store), but is revalidated each time (ETag, 304).
 */
export const DOCS_CACHE_CONTROL = 'no-cache';

/** The app's document, as JSON; createApp hands it the app (the document is built from it). */
@Injectable()
export class OpenApiDocumentSource {
  private app?: INestApplication;
  private json?: string;

  attach(app: INestApplication): void {
    this.app = app;
  }

  document(): string {
    if (this.json === undefined) {
      if (!this.app) throw new Error('OpenApiDocumentSource: no app attached (see createApp)');
      this.json = JSON.stringify(buildOpenApiDocument(this.app));
    }
    return this.json;
  }
}

@ApiTags('documentation')
@Controller()
export class OpenApiController {
  constructor(private readonly source: OpenApiDocumentSource) {}

  @Get('openapi.json')
  @ApiOperation({
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI document',
    description:
      'The OpenAPI 3.1 document of this deployment, generated from its code. Make a typed client from it, e.g. `npx openapi-typescript <base URL>/openapi.json -o card-store.d.ts`.',
  })
  @ApiAnswers(
    {
      status: 200,
      json: { type: 'object', description: 'An OpenAPI 3.1 document.' },
      description: 'The document.',
      headers: VALIDATOR,
    },
    NOT_MODIFIED,
  )
  document(@Res() response: Response): void {
    sendRevalidated(response, 'application/json', this.source.document());
  }
}

// ---- Swagger UI (API_DOCS=ui) ----

/**
 * The docs page's own policy (other routes keep theirs): scripts and styles only from
 * this origin, no inline code of either; data: images (Swagger UI's icons); requests
 * ("Try it out") only to this origin; no framing.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Relative URLs, so that the page works under any path prefix of a deployment. */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>card-store API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<noscript>Swagger UI needs JavaScript. The OpenAPI document itself is at <a href="openapi.json">openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-initializer.js"></script>
</body>
</html>
`;

/** Our start script (the one swagger-ui-dist ships loads the petstore example). */
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

/** The files of the page, by the name it asks for. */
const ASSETS = {
  'swagger-ui.css': { type: 'text/css', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { type: 'text/javascript', file: 'swagger-ui-bundle.js' },
  'swagger-initializer.js': { type: 'text/javascript', source: INITIALIZER },
} as const;
type AssetName = keyof typeof ASSETS;
const isAsset = (name: string): name is AssetName => Object.hasOwn(ASSETS, name);

/**
 * swagger-ui-dist's folder, as @nestjs/swagger (whose dependency it is) resolves it; looked
 * up only when a file is asked for, never by the Lambda bundle (no `require.resolve` for
 * esbuild to follow).
 */
function swaggerUiDist(): string {
  const fromSwagger = createRequire(createRequire(__filename).resolve('@nestjs/swagger'));
  return dirname(fromSwagger.resolve('swagger-ui-dist/package.json'));
}

@ApiTags('documentation')
@Controller('docs')
export class SwaggerUiController {
  private dist?: string;
  /** The files read so far (a few MB, in ui mode only: locally). */
  private readonly files: Partial<Record<AssetName, string>> = {};

  @Get()
  @ApiOperation({
    operationId: 'showApiDocs',
    summary: 'Swagger UI',
    description: 'This document in Swagger UI, served from this origin under its own CSP.',
  })
  @ApiAnswers(
    { status: 200, page: true, description: 'The page.', headers: VALIDATOR },
    NOT_MODIFIED,
  )
  page(@Res() response: Response): void {
    response.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
    sendRevalidated(response, 'html', DOCS_PAGE);
  }

  @Get(':asset')
  @ApiOperation({ operationId: 'getApiDocsAsset', summary: 'A file of the docs page' })
  @ApiParam({ name: 'asset', enum: Object.keys(ASSETS) })
  @ApiAnswers(
    {
      status: 200,
      description: 'The file.',
      headers: VALIDATOR,
      content: { 'text/css': { type: 'string' }, 'text/javascript': { type: 'string' } },
    },
    NOT_MODIFIED,
    { status: 404, codes: ['NOT_FOUND'], description: 'No such file (`NOT_FOUND`).' },
  )
  async asset(@Param('asset') name: string, @Res() response: Response): Promise<void> {
    if (!isAsset(name)) throw new ApiException(HttpStatus.NOT_FOUND, 'NOT_FOUND', 'No such file.');
    const asset = ASSETS[name];
    if ('source' in asset) {
      sendRevalidated(response, asset.type, asset.source);
      return;
    }
    this.dist ??= swaggerUiDist();
    const file = (this.files[name] ??= await readFile(join(this.dist, asset.file), 'utf8'));
    sendRevalidated(response, `${asset.type}; charset=utf-8`, file);
  }
}

@Module({})
export class ApiDocsModule {
  static forRoot(mode: Exclude<ApiDocs, 'off'>): DynamicModule {
    return {
      module: ApiDocsModule,
      controllers: mode === 'ui' ? [OpenApiController, SwaggerUiController] : [OpenApiController],
      providers: [OpenApiDocumentSource],
      exports: [OpenApiDocumentSource],
    };
  }
}
