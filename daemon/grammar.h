/* grammar.h: citizens' and officials' SMS keywords, Vietnamese folding
 * (pure, no I/O). */
#ifndef PAKN_GRAMMAR_H
#define PAKN_GRAMMAR_H

#include <stddef.h>
#include <stdint.h>

enum cmd_kind {
	CMD_COMPLAINT, /* PA, PHAN ANH, GY, GOP Y, KIEN NGHI, KN; bare text */
	CMD_STATUS,    /* TT, TRA CUU <ticket> */
	CMD_REGISTER,  /* DK, DANG KY <unit code> */
	CMD_WITHDRAW,  /* HUY <ticket> */
	CMD_HELP,      /* HD, HUONG DAN, HELP, ? */
	CMD_STOP,      /* TU CHOI, STOP */
	CMD_RATE,      /* DG, DANH GIA <ticket> <1-5> */
	CMD_ANSWER,    /* TL <ticket> <answer> (officials) */
	CMD_TRANSFER,  /* CT <ticket> <unit code> <reason> (officials) */
	CMD_CODE,      /* only a unit code, optionally after # or @ */
	CMD_DIGIT,     /* only one digit 1..5 (a rating reply) */
	CMD_EMPTY,     /* nothing but white space */
	CMD_REPORT,    /* BC, BAO CAO: this month's figures (leaders) */
	CMD_ACCEPT,    /* THU LY <ticket> (officials: accept, thụ lý) */
	CMD_APOLOGIZE, /* HEN <ticket> <dd/mm[/yyyy]> <reason> (officials) */
	CMD_START,     /* START, DANG KY LAI: undo TU CHOI */
	CMD_LIST,      /* DS, DANH SACH [page] (officials) */
	CMD_SHOW,      /* XEM <ticket> (officials; a citizen's own: status) */
	CMD_EXTEND,    /* GH <ticket> <days> <reason> (officials) */
	CMD_RETURN,    /* TC <ticket> <reason>: not ours (officials) */
	CMD_SUMMARY,   /* BC TAT (number 0), BC BAT (1): leaders' summary */
	CMD_SURVEY     /* survey answers: a digit 1..5 and one or two C/K */
};

struct sms_cmd {
	enum cmd_kind kind;
	int keyword;     /* 0: no keyword, bare text taken as a complaint */
	char ticket[16]; /* normalised (uppercase, no spaces or dashes), "" */
	int ticket_ok;   /* ticket_valid(ticket) */
	char unit[24];   /* unit code digits (DK, CT, CMD_CODE, #code), "" */
	int rating;      /* 1..5 for CMD_RATE, CMD_DIGIT and CMD_SURVEY (0:
	                    no digit in the survey answers), else 0 */
	int number;      /* page (DS), days (GH), on (BC BAT); else 0 */
	char answers[3]; /* CMD_SURVEY: the C/K answers in order ("CK") */
	char *text;      /* free text, original UTF-8, trimmed; never NULL */
	char *folded;    /* grammar_fold(text); never NULL */
};

/*
 * Parse one SMS body (UTF-8, checked by the caller) into cmd, which the
 * caller releases with sms_cmd_clear. Always returns 0 and fills cmd; a
 * NULL body parses as CMD_EMPTY.
 *
 * Words that are also ordinary Vietnamese (tu choi, huong dan, dang ky,
 * danh gia, huy, tt = thi tran) only count as commands when the rest of
 * the message fits the command; otherwise the message is a bare complaint
 * (keyword 0). A message of survey answers only (CMD_SURVEY) holds at
 * most one digit 1..5, anywhere, and one or two yes/no answers in order:
 * C, CO, CÓ or K, KO, KG, KHONG, KHÔNG, apart or run together ("5 C K",
 * "c,k 5", "5ck"). TL, CT, GH and TC parse as commands for anyone (the
 * database refuses them to a phone that is not an official's).
 */
int grammar_parse(const char *utf8, struct sms_cmd *cmd);

/* Fill cmd as a bare complaint (keyword 0, text = the trimmed body, unit
 * from the first #code or @code); for TL/CT from a citizen. */
void grammar_complaint(const char *utf8, struct sms_cmd *cmd);

/* Release the strings of cmd (not cmd itself). */
void sms_cmd_clear(struct sms_cmd *cmd);

/* Fold Vietnamese to lowercase ASCII: drop diacritics (precomposed or
 * combining U+0300-U+036F), d for đ/Đ, lowercase ASCII; other characters
 * are kept. Returns a new string. */
char *grammar_fold(const char *utf8);

/* Decode the character at s into *cp and return its length in bytes:
 * 0 at the NUL, 1 with *cp = U+FFFD for a byte that does not start a
 * well-formed UTF-8 sequence. */
size_t grammar_utf8_next(const char *s, uint32_t *cp);

/* The letter cp carries a diacritic on, case kept ('A' for U+1EA0, 'd'
 * for U+0111), 0 for a combining mark, cp itself otherwise. */
uint32_t grammar_base(uint32_t cp);

#endif
