/**
 * The pages of a person who is not following a link from a mail: the start page (`/`,
 * sign in or create an account) and the account page (`/account`). Their forms post to
 * the API's own routes (`POST /login`, `POST /users`, `POST /logout`, ...), which answer a
 * form with pages (answer-format.ts).
 */
import { Controller, Get, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { toPublicUser, UserStore } from '../../activation';
import { ApiAnswers, FAILURES, LOCATION, onlyAsPages } from '../../platform/openapi/api-answers';
import { SessionGuard } from '../sessions/session.guard';
import { accountPage, homePage, NOTICES, noticeOf } from './account-pages';
import { redirectToPage, sendPage } from './page';
import { PagesFilter } from './pages.filter';

const NoticeQuery = () =>
  ApiQuery({
    name: 'notice',
    required: false,
    description: 'A short note to show, after a redirect; any other value shows none.',
    schema: { type: 'string', enum: Object.keys(NOTICES) },
  });

@ApiTags('pages')
@Controller()
// A failure on our side is the "try again" page; no client error is possible here.
@UseFilters(new PagesFilter((_request, _error, { statusCode }) => homePage({ status: statusCode })))
export class PagesController {
  constructor(
    private readonly sessions: SessionGuard,
    private readonly users: UserStore,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'showStartPage',
    summary: 'The start page',
    description:
      'Sign in (posting to `POST /login`) and create an account (posting to `POST /users`), with links to the password reset and to a new activation mail.',
  })
  @NoticeQuery()
  @ApiAnswers({ status: 200, page: true, description: 'The start page.' })
  showStartPage(@Query('notice') notice: unknown, @Res() response: Response): void {
    sendPage(response, homePage({ notice: noticeOf(notice) }));
  }

  @Get('account')
  @ApiOperation({
    operationId: 'showAccountPage',
    summary: 'The account page',
    description:
      'Signed in: name, username, e-mail address and status; sign out, sign out everywhere, change the password. Not signed in: `303` to the start page.',
  })
  @NoticeQuery()
  @ApiAnswers(
    { status: 200, page: true, description: 'The account of the session.' },
    {
      status: 303,
      description: 'No live session: to the start page (`./?notice=sign-in-first`).',
      headers: { Location: LOCATION },
    },
    ...onlyAsPages(FAILURES),
  )
  async showAccountPage(
    @Query('notice') notice: unknown,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const session = await this.sessions.sessionOf(request);
    const user = session ? await this.users.findByUsername(session.username) : undefined;
    if (!user) return redirectToPage(response, '?notice=sign-in-first');
    sendPage(response, accountPage(toPublicUser(user), noticeOf(notice)));
  }
}
