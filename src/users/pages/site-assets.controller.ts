/**
 * `GET /assets/site.css`: the pages' one stylesheet. The pages link it with its content
 * hash (`?v=…`), so that URL may be kept for a year (a new stylesheet has a new URL); any
 * other URL of it is revalidated, by its strong ETag.
 */
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiAnswers } from '../../platform/openapi/api-answers';
import { NOT_MODIFIED, sendRevalidated, VALIDATOR } from '../../platform/revalidated-answer';
import { STYLESHEET } from './page';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

@ApiTags('pages')
@Controller('assets')
export class SiteAssetsController {
  @Get('site.css')
  @ApiOperation({ operationId: 'getStylesheet', summary: "The pages' stylesheet" })
  @ApiQuery({
    name: 'v',
    required: false,
    description: "The stylesheet's content hash, as the pages link it: then kept for a year.",
    schema: { type: 'string' },
  })
  @ApiAnswers(
    {
      status: 200,
      description: 'The stylesheet.',
      content: { 'text/css': { type: 'string' } },
      headers: VALIDATOR,
    },
    NOT_MODIFIED,
  )
  stylesheet(@Query('v') version: unknown, @Res() response: Response): void {
    sendRevalidated(
      response,
      'text/css; charset=utf-8',
      STYLESHEET.body,
      version === STYLESHEET.hash ? IMMUTABLE : 'no-cache',
    );
  }
}
