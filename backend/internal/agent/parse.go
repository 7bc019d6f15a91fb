package agent

import (
	"regexp"
	"strconv"
	"strings"
)

// Kind is what the user asked for.
type Kind int

// Intent kinds.
const (
	KindUnknown Kind = iota
	KindGreet
	KindHelp
	KindThanks
	KindAdd
	KindList
	KindComplete
	KindReopen
	KindDelete
	KindUpdate
	KindAsk    // a command without its object ("complete", "add"): ask for it
	KindUndo   // undo the conversation's last change
	KindUnsure // a negated or doubtful statement: change nothing, ask back
)

func (k Kind) String() string {
	return [...]string{"unknown", "greet", "help", "thanks", "add", "list", "complete", "reopen",
		"delete", "update", "ask", "undo", "unsure"}[k]
}

// Target says which task(s) a command is about.
type Target struct {
	IDs     []int64 // explicit task numbers ("task 3", "#3", "3 and 4"): the user's own numbering
	Text    string  // a phrase to match against titles ("the milk one")
	Pronoun bool    // "it", "that one": the task last mentioned in the conversation
	All     bool    // "all", "everything"
	Status  string  // with All: restrict to pending or completed tasks
	Ordinal int     // "the first one" = 1, "the last one" = -1
	Verb    string  // past-tense phrasing ("I walked the dog"): the verb's stem must not be the only match
}

// Intent is the parse of one message.
type Intent struct {
	Kind        Kind
	Title       string // add: title; update: new title
	Description string // add: description
	NewTitle    *string
	NewDesc     *string
	Status      string // list: all|pending|completed
	Target      Target
	AskFor      Kind // with KindAsk: the command that lacks its object
	FallbackAdd bool // complete/reopen target not found: add Title instead
	Negated     bool // with KindUnsure: the message denied doing something (else it doubted)
}

var (
	reLeadFill  = rx(`^(?:please|pls|plz|kindly|hey there|hey|hi there|hi|hello|ok|okay|ok so|so|actually|oh|oops|um+|uh+|hmm+|well|and|also|now|alright|all right|right|yo|btw|by the way|quick one|quickly|just)\b[\s,!.:;-]*`)
	reLeadAsk   = rx(`^(?:(?:can|could|would|will|won't)\s+(?:you|u|ya)(?:\s+please)?|would you mind|do me a favou?r and|i need you to|i want you to|i'd like you to|i would like you to|go ahead and|help me|you can|you could|pls|please)\b[\s,]*`)
	reLeadWant  = rx(`^(?:i'?d like to|i would like to|i want to|i wanna|let me|let's|lets)\s+((?:add|create|delete|remove|mark|complete|finish|show|list|rename|change|update|see|view|cancel|drop|erase|put|make a|make an|make new|edit|reopen|clear|get rid|tick|cross|know|review)\b.*)$`)
	reTrailFill = regexp.MustCompile(`(?i)(?:[\s,]+(?:` + strings.Join(trailFill, "|") + `))+$`)
)

// Phrase building blocks.
const (
	doneWords    = `(?:done|complete|completed|finished|checked|checked off|ticked|ticked off|crossed off|resolved|closed|accomplished|taken care of|sorted|handled|dealt with|over with)`
	notDoneWords = `(?:not done|not complete|not completed|not finished|undone|incomplete|unfinished|uncompleted|pending|open|active|outstanding|to ?do|to-do|not yet done|unchecked|unticked|not started)`
	listNouns    = `(?:(?:todo|to-do|to do|task|tasks|shopping|daily)\s+)?(?:list|tasks|todos|to-dos|agenda|things to do)`
)

var (
	reGreet  = rx(`^(?:hi+|hello+|hey+|hiya|howdy|yo|hola|good (?:morning|afternoon|evening|day)|greetings|sup|what'?s up|wassup|morning|evening)(?:\s+(?:there|bot|buddy|friend|assistant))?$`)
	reHelp   = rx(`^(?:help|help me|\?|what can you do|what do you do|how does this work|how do (?:i|you) use (?:this|you)|what are you|who are you|commands|options|what can i (?:say|do|ask))$`)
	reThanks = rx(`^(?:thanks|thank you|thank u|thx|ty|cheers|great|awesome|perfect|cool|nice|ok|okay|got it|good|great thanks|thanks a lot|thank you so much|bye|goodbye|see you)$`)

	// Bare commands without an object.
	reBare = rx(`^(?:(add|create|new|remind me|put)|(complete|finish|done|mark|mark as done|check off|tick off|finished)|(delete|remove|drop|cancel|erase|get rid of)|(rename|update|change|edit)|(reopen|uncomplete|unmark))(?:\s+(?:a|the|one|my)?\s*(?:task|item|todo|something)?)?$`)

	// Bulk delete of completed or all tasks.
	reBulkDelete = rx(`^(?:delete|remove|clear|erase|purge|drop|trash|wipe|empty|get rid of|clean up|clean out|clear out|throw away|throw out)\s+(?:out\s+)?(?:all\s+(?:of\s+)?|every\s+|each\s+)?(?:the\s+|my\s+)?(?:tasks?\s+(?:that\s+(?:are|were)\s+|which\s+(?:are|were)\s+)?)?` + `(completed|complete|finished|done|checked|checked off|ticked|ticked off|old|crossed off|pending|incomplete|unfinished|open|everything|all)?\s*(?:ones|tasks?|items?|todos?|to-dos?|stuff|list|things)?(?:\s+(?:from|off|on)\s+(?:my|the)\s+` + listNouns + `)?$`)

	// Reopen.
	reReopenVerb  = rx(`^(?:reopen|re-open|uncomplete|un-complete|unmark|uncheck|untick|undo|restore|reactivate|revive|resume|unfinish|un-finish|un-check|un-tick|unarchive)\s+(.+?)(?:\s+(?:as\s+)?(?:done|complete|completed|finished))?$`)
	reReopenMark  = rx(`^(?:mark|set|flag|put|make|turn|move|change)\s+(.+?)\s+(?:as\s+|to\s+|back\s+to\s+|back\s+as\s+|back\s+)?(?:not\s+(?:yet\s+)?(?:done|complete|completed|finished)|undone|incomplete|unfinished|uncompleted|pending|open|active|outstanding|to ?do|to-do|not started|unchecked|unticked)(?:\s+again)?$`)
	reReopenIsnt  = rx(`^(.+?)\s+(?:is not|isn't|isnt|is still not|still isn't|isn't actually|is not actually|wasn't|was not|wasnt|aren't|are not|arent|hasn't been|has not been|was never|is not really|isn't really|ain't)\s+(?:actually\s+|really\s+|quite\s+|yet\s+|fully\s+)?` + doneWords + `(?:\s+yet)?(?:\s+after all)?$`)
	reReopenDidnt = rx(`^(?:i|we)\s+(?:didn't|did not|didnt|haven't|have not|havent|never|hadn't|have not yet|haven't yet|didn't actually|did not actually|didn't really)\s+(?:actually\s+|really\s+|yet\s+)?(?:finish(?:ed)?|complete(?:d)?|do|done|did)\s+(.+?)(?:\s+(?:yet|after all))?$`)
	reReopenNeeds = rx(`^(.+?)\s+(?:still\s+needs?\s+(?:to\s+be\s+done|doing|work)|needs?\s+to\s+be\s+(?:re)?done(?:\s+again)?|is\s+(?:still\s+)?(?:pending|open|outstanding)(?:\s+again)?|should\s+(?:not\s+be|n't\s+be|be\s+un)\s*(?:done|completed|checked)|is back on|isn't finished)$`)
	reReopenBack  = rx(`^(?:put|move|bring|add|place|set)\s+(.+?)\s+back(?:\s+(?:on|to|in|into|onto)\s+(?:my|the)\s+` + listNouns + `|\s+to\s+(?:pending|open|to ?do|not done|undone|active))?$`)
	reReopenUndo  = rx(`^(?:undo|revert|cancel)\s+(?:the\s+)?(?:completion|completing|check(?:ing)?\s+off|done(?:\s+mark)?)\s+(?:of|on|for)\s+(.+)$`)

	// Update.
	reUpdQuoted          = rx(`^(?:change|rename|update|edit|modify|replace|retitle|set|switch)\s+(?:task\s+|the\s+task\s+)?["'](.+?)["']\s+(?:to|into|as|with|->|=>)\s+["']?(.+?)["']?$`)
	reUpdDescOf          = rx(`^(?:change|update|set|edit|modify|replace|make|rewrite)\s+(?:the\s+)?(?:description|desc|details|detail|notes?)\s+(?:of|for|on|in|to)\s+(.+?)(?:\s+(?:to|as|with|to say|to read)\s+|\s*(?:->|=>|:|=)\s*)(.+)$`)
	reUpdDescPossessive  = rx(`^(?:change|update|set|edit|modify|replace|make|rewrite)\s+(.+?)(?:'s|s')?\s+(?:description|desc|details|detail|notes?)(?:\s+(?:to|as|with|to say|to read)\s+|\s*(?:->|=>|:|=)\s*)(.+)$`)
	reUpdDescAdd         = rx(`^(?:add|put|attach|give|write|append|include)\s+(?:a\s+|the\s+|this\s+)?(?:description|desc|note|notes|details|detail)\s+(?:to|for|on)\s+(.+?)(?:\s*[:=,\-]\s*|\s+(?:saying|that says|which says|reading|as)\s+)(.+)$`)
	reUpdDescAddToID     = rx(`^(?:add|put|attach|write|append)\s+(?:a\s+|the\s+)?(?:description|desc|note|notes|details)\s+["']?(.+?)["']?\s+(?:to|for|on)\s+((?:the\s+)?(?:task|item|number|#)\s*#?\s*\d+|#?\d+)$`)
	reUpdDescDes         = rx(`^describe\s+(.+?)\s+as\s+(.+)$`)
	reUpdTitleOf         = rx(`^(?:change|update|set|edit|modify|replace|make|rewrite)\s+(?:the\s+)?(?:title|name|wording|text)\s+(?:of|for|on)\s+(.+?)\s+(?:to|as|with|into|->|=>)\s+(.+)$`)
	reUpdTitlePossessive = rx(`^(?:change|update|set|edit|modify|replace|make|rewrite)\s+(.+?)(?:'s|s')?\s+(?:title|name|wording|text)\s+(?:to|as|with|into|->|=>)\s+(.+)$`)
	reUpdRename          = rx(`^(?:rename|retitle|re-title|re-name)\s+(.+?)\s+(?:to|as|into|->|=>)\s+(.+)$`)
	reUpdChange          = rx(`^(?:change|update|edit|modify|replace|correct|fix|reword|rewrite|alter|amend|switch)\s+(.+?)\s+(?:to|into|with|->|=>)\s+(?:say\s+|read\s+|be\s+|now\s+say\s+|instead\s+say\s+)?(.+)$`)
	reUpdColon           = rx(`^(?:edit|change|update|rename|retitle|modify|correct|fix)\s+((?:the\s+)?(?:task|item|number|no\.?)\s*#?\s*\d+|#?\s*\d+)\s*(?::|=|->|=>|-)\s*(.+)$`)
	reUpdShould          = rx(`^(.+?)\s+should\s+(?:be\s+called|be\s+named|be\s+titled|say|read|be)\s+(.+)$`)
	reUpdCalled          = rx(`^(?:call|name|title)\s+(.+?)\s+(?:instead|now)?\s*["'](.+?)["']\s*(?:instead)?$`)

	// Complete.
	reDoneMark      = rx(`^(?:mark|set|flag|tag|put|make|turn|move|change)\s+(?:off\s+)?(.+?)\s+(?:as\s+|to\s+)?(?:being\s+)?` + doneWords + `(?:\s+now)?$`)
	reDoneOff       = rx(`^(?:mark|check|tick|cross|strike|knock|scratch)\s+off\s+(.+)$`)
	reDoneCheckXOff = rx(`^(?:mark|check|tick|cross|strike|knock|scratch)\s+(.+?)\s+off(?:\s+(?:my|the)\s+` + listNouns + `)?$`)
	reDoneVerb      = rx(`^(?:complete|finish|close|resolve|tick|wrap up|knock out|accomplish|conclude|fulfil|fulfill)\s+(.+?)(?:\s+(?:as done|now|off))?$`)
	reDoneI         = rx(`^(?:(?:i|we)(?:\s*'ve|ve|\s+have|\s*'m|\s+am|'re|\s+are)?\s+)?(?:(?:just|already|finally|now|totally|completely|also|officially|successfully)\s+)*(?:finished|completed|did|done|accomplished|wrapped up|took care of|taken care of|handled|sorted out|sorted|knocked out|got done|got through|dealt with|ticked off|checked off|crossed off)\s+(?:with\s+)?(.+?)(?:\s+(?:already|today|now|just now|finally))?$`)
	reDoneWith      = rx(`^(?:(?:i'm|i am|im|we're|we are)\s+)?(?:all\s+|totally\s+|finally\s+)?(?:done|finished|through)\s+with\s+(.+)$`)
	reDoneIs        = rx(`^(.+?)\s+(?:is|are|was|were|has been|have been|got|'s|is now|is all|is already|are all)\s+(?:now\s+|all\s+|already\s+|finally\s+|officially\s+)?` + doneWords + `$`)
	reDoneTail      = rx(`^(.+?)\s*(?:-|:|,)?\s+(?:done|finished|completed|complete|checked|ticked)$`)
	reDoneHead      = rx(`^(?:done|finished|completed|checked|ticked)\s*[:\-]\s*(.+)$`)
	rePastTense     = rx(`^(?:(?:i|we)\s+)?(?:(?:just|already|finally|have|'ve|also)\s+)*([a-z]+ed|bought|paid|went|did|made|wrote|sent|took|ate|got|fed|ran|met|brought|told|sold|found|gave|kept|spent|swept|drove|flew|hung|won|began|caught|taught|read|put|cut|set|hit|left|washed|fixed|mailed|emailed)\s+(.+)$`)

	// Delete.
	reDelVerb         = rx(`^(?:delete|remove|drop|erase|trash|scrap|discard|cancel|nuke|kill|ditch|axe|purge|get rid of|throw away|throw out|bin|forget about|forget|never ?mind(?: about)?|nevermind(?: about)?|scratch|scratch out|strike out|clear|eliminate|wipe|toss|dump|lose|junk|abandon|skip|rm|del)\s+(.+?)(?:\s+(?:from|off|out of)\s+(?:my|the)\s+` + listNouns + `)?(?:\s+(?:entirely|completely|altogether|permanently|for good))?$`)
	reDelTakeOf       = rx(`^(?:take|get|cross|strike|scratch)\s+(.+?)\s+(?:off|out of)(?:\s+(?:my|the)\s+` + listNouns + `)?$`)
	reDelNoNeed       = rx(`^(.+?)\s+(?:is|are|was|'s)\s+(?:no longer needed|not needed(?: any ?more)?|no longer necessary|not necessary(?: any ?more)?|cancelled|canceled|unnecessary|irrelevant|obsolete|off|not happening|called off)(?:\s+any ?more)?$`)
	reDelDont         = rx(`^(?:i|we)\s+(?:don't|do not|dont|no longer|won't|will not|wont)\s+(?:need|have|want|plan)\s+to\s+(.+?)(?:\s+any ?more)?(?:\s+after all)?$`)
	reDelDontNeedTask = rx(`^(?:i|we)\s+(?:don't|do not|dont)\s+need\s+(?:the\s+)?(.+?)\s+(?:task|item|one|todo)(?:\s+any ?more)?$`)

	// Add.
	reAddQuoted     = rx(`^(?:add|put|create|insert|include|stick|throw|jot down|write down|note down|write|note|log|record|enter|make|new|save|set up|schedule)\s+(?:a\s+(?:new\s+)?(?:task|todo|item|reminder)\s+)?["'](.+?)["']\s*(?:(?:to|on|in|onto|into|as)\s+.*)?$`)
	reAddVerb       = rx(`^(?:add|create|insert|new|put|stick|throw|jot down|jot|write down|write|note down|log|record|enter|include|save|make(?:\s+(?:a|an|me a)\s+(?:new\s+)?(?:task|todo|to-do|item|reminder|note|entry))|set(?:\s+(?:a|an|me a)\s+(?:new\s+)?(?:task|todo|reminder))|set up(?:\s+(?:a|an)\s+(?:new\s+)?(?:task|todo|reminder))|add on|tack on|pop)\s+(.+)$`)
	reAddNoun       = rx(`^(?:a\s+|an\s+|the\s+|one\s+|another\s+|me\s+a\s+|some\s+)?(?:new\s+|quick\s+)?(?:task|todo|to-do|to do|item|reminder|entry|note|thing)s?\b\s*(?:called|named|titled|saying|that says|which says|to\s+|for\s+|about\s+|of\s+|:|-|=)?\s*`)
	reAddToList     = rx(`^(?:to|on|onto|in|into)\s+(?:my|the)\s+` + listNouns + `\s*[:\-,]?\s*(.+)$`)
	reAddTail       = rx(`\s*(?:\s(?:to|on|onto|in|into)\s+(?:my|the|our)\s+` + listNouns + `|\s(?:as\s+(?:a|an)\s+(?:new\s+)?(?:task|todo|to-do|item|reminder))|\sfor later|\splease|\sfor me|\sfor myself|\sto do)+$`)
	reAddDesc       = rx(`^(.+?)\s*,?\s+(?:with|w/|and)\s+(?:a\s+|the\s+)?(?:description|desc|note|notes|details|detail|comment)\s*(?:of|:|saying|that says|reading|=|-)?\s*(.+)$`)
	reAddDescSuffix = rx(`^(.+?)\s*(?:\(|\[|-|:|;|\.|,)\s*(?:description|desc|note|notes|details)\s*[:=\-]?\s*(.+?)[)\]]?$`)
	reAddRemind     = rx(`^remind\s+(?:me|us)\s+(?:to|about|of|that i need to|that i have to|that i should|i need to|i have to)\s+(.+)$`)
	reAddRemindWhen = rx(`^remind\s+(?:me|us)\s+(.+?)\s+to\s+(.+)$`)
	reAddNeed       = rx(`^(?:i|we)(?:\s+(?:really|still|also|definitely|probably|seriously))?\s*(?:need|needs|have|has|got|gotta|must|should|ought|want|wanna|'d like|would like|plan|intend|'ll need|will need|'ve got|have got|'ve gotta|'m going|am going|'m gonna|am gonna|gonna|'ll have|will have|'d better|had better|better)\s*(?:to\s+)?(.+)$`)
	reAddForget     = rx(`^(?:don't|do not|dont|never)\s+(?:let\s+me\s+|let\s+us\s+)?forget\s+(?:to\s+|about\s+|that\s+i\s+(?:need|have)\s+to\s+)?(.+)$`)
	reAddRemember   = rx(`^(?:remember|make sure|be sure|note to self|memo|reminder|mental note)\s*[:\-,]?\s*(?:to\s+|that\s+i\s+(?:need|have)\s+to\s+|i\s+(?:need\s+to\s+|have\s+to\s+)?)?(.+)$`)
	reAddNeedTo     = rx(`^(?:need to|needs to|have to|has to|got to|gotta|ought to|must|should|need)\s+(.+)$`)
	reNeedRef       = rx(`^(?:(?:do|finish|complete|work on|get to)\s+)?((?:the\s+)?(?:task|item|number|no\.?|#)\s*#?\s*\d+)$`)
	reAddPrefix     = rx(`^(?:todo|to-do|to do|task|new task|new todo|new|reminder|add|item|new item)\s*[:\-]\s*(.+)$`)
	reAddPutOn      = rx(`^(?:put|add|write|stick|throw|get|pop|place|slot)\s+(.+?)\s+(?:on|to|in|onto|into)\s+(?:my|the|our)\s+` + listNouns + `$`)
	reAddOnList     = rx(`^(.+?)\s+(?:goes|should go|needs to go)\s+(?:on|to|in)\s+(?:my|the)\s+` + listNouns + `$`)

	// List.
	reListBare = rx(`^(?:my\s+|the\s+|all\s+(?:my\s+)?|current\s+)?(?:(?:pending|completed|done|finished|open|outstanding|remaining|incomplete|unfinished|active|all|current)\s+)?(?:tasks|todos|to-dos|task list|todo list|to-do list|to do list|list|agenda|items|reminders|stuff)(?:\s+(?:please|pls))?$|^(?:pending|completed|done|finished|everything|all|status|summary|overview|progress)$`)
	reListVerb = rx(`^(?:(?:can|could|would|will)\s+(?:you|i)\s+|please\s+|let\s+me\s+|i\s+(?:want|need|would like|'d like)\s+to\s+|i\s+wanna\s+)?(?:show|list|display|view|see|print|give|get|tell|read|fetch|pull up|bring up|recap|summari[sz]e|enumerate|remind|review|check|look at|what|what's|whats|what're|what are|what is|which|how many|how much|do i|did i|have i|am i|anything|any|is there|are there|where|whats|wht|wat|lemme see|gimme|go over|run through|run me through|walk me through)\b`)
	reListNoun = rx(`\b(?:finish|tasks?|todos?|to-dos?|to do|list|left|remaining|remain|remains|pending|completed|complete|finished|done|agenda|outstanding|open|incomplete|unfinished|plate|items?|everything|reminders?|accomplished|achieved|ticked|checked off|crossed off|on deck|upcoming|due|got going on|have going on|planned)\b`)

	// Status words inside a list request.
	reStatusPending   = rx(`\b(?:(?:need|needs|have|has|got|ought)\s+to|pending|left|remaining|remains|remain|outstanding|open|incomplete|unfinished|uncompleted|not (?:yet )?(?:done|finished|completed|complete)|undone|still|upcoming|active|due|on deck|have to do|need to do|got to do|should do|to do next|next|unchecked|not started|yet to)\b`)
	reStatusCompleted = rx(`\b(?:completed|complete|finished|finish|accomplish|done|accomplished|achieved|checked off|ticked off|crossed off|closed|ticked|checked)\b`)
	reStatusAll       = rx(`\b(?:all|every|everything|entire|whole|full)\b`)
	reTodoList        = rx(`\b(?:to-?do|to do)\s+(?:list|items|tasks)\b`)
)

// Reference phrases.
var (
	reIDSingle  = rx(`^(?:the\s+)?(?:task|item|todo|to-do|entry|number|no\.?|num|id|#)?\s*(?:number|no\.?|num|id|#)?\s*#?\s*(\d{1,18})(?:\s+(?:task|item|one))?$`)
	reIDMulti   = rx(`^(?:the\s+)?(?:tasks|items|todos|numbers|ids|task|item|#)?\s*#?\d{1,18}(?:\s*(?:,|and|&|\+|,\s*and)\s*(?:task\s+|#)?\d{1,18})+$`)
	reIDInside  = rx(`(?:^|\s)(?:task|item|todo|to-do|number|no\.|id)\s*#?\s*(\d{1,18})\b|(?:^|\s)#\s?(\d{1,18})\b`)
	reDigits    = regexp.MustCompile(`\d{1,18}`)
	rePronoun   = rx(`^(?:it|that|this|that one|this one|that task|this task|the last one|the one i just added|the last task|the previous one|the same one|same|the task|the latest one|the newest one|the new one|last one)$`)
	reAllTarget = rx(`^(?:all|everything|all of them|every task|every single task|them all|all (?:of )?(?:my |the )?(?:tasks|items|todos|to-dos|things)|all of my tasks|each task|(?:the|my) (?:whole|entire) list|everything on my list|(?:my|the) list)$`)
	reAllStatus = rx(`^(?:(?:all|every|each|everything)\s+(?:of\s+)?|the\s+)(?:my\s+|the\s+)?(?:(?:tasks?|items?|todos?|ones|things?)\s+)?(?:(?:that|which|who)(?:\s*'s|\s+is|\s+are|\s+were|\s+was|'re)\s+(?:already\s+|still\s+)?)?(pending|open|remaining|incomplete|unfinished|outstanding|completed|done|finished|checked|checked off|ticked off)\s*(?:tasks|items|todos|ones|to-dos|things)?$`)
	reOrdinal   = rx(`^(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|final)\s*(?:one|task|item|todo|entry)?(?:\s+(?:on|in)\s+(?:my|the)\s+list)?$`)
)

// Parse maps one message to an intent. It is pure: no database, no history. A negated or
// doubtful statement never becomes a change.
func Parse(msg string) Intent {
	s := Normalize(msg)
	if len(s) > 2000 {
		s = s[:2000]
	}
	if reUndo.MatchString(s) {
		return Intent{Kind: KindUndo}
	}
	return caution(s, parse(msg, s))
}

func parse(msg, s string) Intent {
	if s == "" {
		return Intent{Kind: KindHelp}
	}
	switch {
	case reGreet.MatchString(s):
		return Intent{Kind: KindGreet}
	case reHelp.MatchString(s):
		return Intent{Kind: KindHelp}
	case reThanks.MatchString(s):
		return Intent{Kind: KindThanks}
	}
	if m := reBare.FindStringSubmatch(s); m != nil {
		for i, k := range []Kind{KindAdd, KindComplete, KindDelete, KindUpdate, KindReopen} {
			if m[i+1] != "" {
				return Intent{Kind: KindAsk, AskFor: k}
			}
		}
	}
	if reQuestion.MatchString(s) {
		if in, ok := parseList(s); ok {
			return in
		}
	}
	if in, ok := parseBulkDelete(s); ok {
		return in
	}
	if in, ok := parseReopen(s); ok {
		return in
	}
	if in, ok := parseUpdate(s); ok {
		return in
	}
	if in, ok := parseComplete(s); ok {
		return in
	}
	if in, ok := parseDelete(s); ok {
		return in
	}
	if in, ok := parseAdd(s); ok {
		return in
	}
	if in, ok := parseList(s); ok {
		return in
	}
	for _, re := range []*pattern{reDoneIs, reDoneTail} {
		if m := re.FindStringSubmatch(s); m != nil && !reQuestion.MatchString(s) {
			if t, ok := targetOf(m[1]); ok {
				return Intent{Kind: KindComplete, Target: t}
			}
		}
	}
	if m := rePastTense.FindStringSubmatch(s); m != nil && !isNonPast(m[1]) {
		t, ok := targetOf(m[1] + " " + m[2])
		if ok && t.Text != "" {
			t.Verb = stem(strings.ToLower(m[1]))
			return Intent{Kind: KindComplete, Target: t}
		}
	}
	// A bare chore ("buy printer ink", "schedule a dentist appointment") is something to add.
	if first, rest, ok := strings.Cut(s, " "); ok && choreVerbs[strings.ToLower(first)] &&
		strings.TrimSpace(rest) != "" && !strings.Contains(msg, "?") && !reQuestion.MatchString(s) {
		if in, ok := parseAdd("add " + s); ok && in.Kind == KindAdd {
			return in
		}
	}
	return Intent{Kind: KindUnknown}
}

// choreVerbs start sentences that, on their own, name a task to do.
var choreVerbs = map[string]bool{}

func init() {
	for _, v := range strings.Fields(`buy purchase call phone ring email e-mail text message pay pick clean
		wash book schedule order send write draft water walk feed fix repair return renew visit prepare
		plan organize organise file submit sign print mail post study practice practise learn take bring
		get grab make cook bake go meet review start apply register reply respond contact arrange collect
		pack unpack iron vacuum mop sweep tidy empty replace charge backup upload download install research
		exercise jog stretch hire invite thank celebrate shop sell donate recycle mow trim paint wrap check
		do call back follow refill top pickup drop-off deliver ship hang assemble build cancel fill read
		watch listen memorize memorise confirm reserve rent hoover dust fold laundry service inspect test
		prune weed plant harvest sort clear declutter shred scan photocopy copy translate edit proofread`) {
		choreVerbs[v] = true
	}
}

var (
	reValueDesc     = rx(`^(?:a\s+|the\s+|new\s+)?(?:description|desc|note|notes|details)\s*(?:of\s+|:|=|-)?\s*(.+)$`)
	reValueDone     = rx(`^(?:be\s+)?` + doneWords + `$`)
	reValueNotDone  = rx(`^(?:be\s+)?` + notDoneWords + `$`)
	reAllWithStatus = rx(`\ball\s+(?:my\s+|the\s+)?(?:pending|completed|done|finished|open|remaining|incomplete|unfinished|outstanding)\b`)
	reLeadPrep      = rx(`^(?:on|about|with|of|for)\s+`)
)

var reQuestion = rx(`^(?:what|which|how|show|list|do|did|have|is|are|any|where|when|why|who)\b`)

// isNonPast rejects "-ed" words that are not past-tense verbs of a finished chore.
func isNonPast(w string) bool {
	switch strings.ToLower(w) {
	case "need", "needed", "wanted", "planned", "hoped", "tried", "forgot", "forgotten", "started",
		"used", "decided", "wished", "liked", "loved", "hated", "noticed", "realized", "realised",
		"wondered", "guessed", "supposed", "meant", "thought", "bed", "red", "shed", "wed", "fed up":
		return true
	}
	return false
}

func parseBulkDelete(s string) (Intent, bool) {
	m := reBulkDelete.FindStringSubmatch(s)
	if m == nil {
		return Intent{}, false
	}
	lower := strings.ToLower(s)
	word := strings.ToLower(m[1])
	t := Target{All: true}
	switch {
	case word == "completed" || word == "complete" || word == "finished" || word == "done" ||
		strings.HasPrefix(word, "checked") || strings.HasPrefix(word, "ticked") || word == "old" || word == "crossed off":
		t.Status = "completed"
	case word == "pending" || word == "incomplete" || word == "unfinished" || word == "open":
		t.Status = "pending"
	case word == "everything" || word == "all" || strings.Contains(lower, " all ") || strings.Contains(lower, " every") ||
		strings.HasSuffix(lower, " list") || strings.Contains(lower, "everything"):
		t.Status = "all"
	default:
		// "delete tasks" without "all" or a status is not a bulk request.
		return Intent{}, false
	}
	return Intent{Kind: KindDelete, Target: t}, true
}

func parseReopen(s string) (Intent, bool) {
	for _, re := range []*pattern{reReopenUndo, reReopenBack, reReopenVerb, reReopenMark, reReopenIsnt, reReopenDidnt, reReopenNeeds} {
		if m := re.FindStringSubmatch(s); m != nil {
			if t, ok := targetOf(m[1]); ok {
				return Intent{Kind: KindReopen, Target: t}, true
			}
		}
	}
	return Intent{}, false
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	for len(s) >= 2 {
		f, l := s[0], s[len(s)-1]
		if (f == '"' || f == '\'') && f == l {
			s = strings.TrimSpace(s[1 : len(s)-1])
			continue
		}
		break
	}
	return strings.Trim(s, " \"")
}

func parseUpdate(s string) (Intent, bool) {
	type form struct {
		re   *pattern
		desc bool
	}
	forms := []form{
		{reUpdQuoted, false}, {reUpdDescOf, true}, {reUpdDescAddToID, true}, {reUpdDescAdd, true},
		{reUpdDescPossessive, true}, {reUpdDescDes, true}, {reUpdTitleOf, false}, {reUpdTitlePossessive, false},
		{reUpdRename, false}, {reUpdColon, false}, {reUpdCalled, false}, {reUpdChange, false}, {reUpdShould, false},
	}
	for _, f := range forms {
		m := f.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		target, value := m[1], m[2]
		if f.re == reUpdDescAddToID {
			target, value = m[2], m[1]
		}
		value = unquote(trimTrailFill(value))
		t, ok := targetOf(target)
		if !ok || value == "" {
			continue
		}
		if !f.desc {
			lv := strings.ToLower(value)
			if reValueDone.MatchString(lv) {
				return Intent{Kind: KindComplete, Target: t}, true
			}
			if reValueNotDone.MatchString(lv) {
				return Intent{Kind: KindReopen, Target: t}, true
			}
		}
		in := Intent{Kind: KindUpdate, Target: t}
		if m := reValueDesc.FindStringSubmatch(value); m != nil && !f.desc {
			value = unquote(m[1])
			in.NewDesc = &value
			return in, true
		}
		if f.desc {
			in.NewDesc = &value
		} else {
			in.NewTitle = &value
		}
		return in, true
	}
	return Intent{}, false
}

func parseComplete(s string) (Intent, bool) {
	for _, re := range []*pattern{reDoneMark, reDoneOff, reDoneCheckXOff, reDoneWith, reDoneHead, reDoneI, reDoneVerb} {
		if m := re.FindStringSubmatch(s); m != nil {
			if t, ok := targetOf(m[1]); ok {
				return Intent{Kind: KindComplete, Target: t}, true
			}
		}
	}
	return Intent{}, false
}

func parseDelete(s string) (Intent, bool) {
	for _, re := range []*pattern{reDelTakeOf, reDelVerb, reDelNoNeed, reDelDontNeedTask, reDelDont} {
		if m := re.FindStringSubmatch(s); m != nil {
			if t, ok := targetOf(m[1]); ok {
				return Intent{Kind: KindDelete, Target: t}, true
			}
		}
	}
	return Intent{}, false
}

func parseAdd(s string) (Intent, bool) {
	var raw string
	needForm := false // "I still need to ...", "don't forget ...": may name an existing task
	if m := reAddQuoted.FindStringSubmatch(s); m != nil {
		raw = m[1]
	} else if m := reAddPutOn.FindStringSubmatch(s); m != nil {
		raw = m[1]
	} else if m := reAddPrefix.FindStringSubmatch(s); m != nil {
		raw = m[1]
	} else if m := reAddRemind.FindStringSubmatch(s); m != nil {
		raw = m[1]
	} else if m := reAddRemindWhen.FindStringSubmatch(s); m != nil {
		raw = m[2] + " " + m[1]
	} else if m := reAddForget.FindStringSubmatch(s); m != nil {
		raw, needForm = m[1], true
	} else if m := reAddRemember.FindStringSubmatch(s); m != nil {
		raw, needForm = m[1], true
	} else if m := reAddNeed.FindStringSubmatch(s); m != nil {
		raw, needForm = m[1], true
	} else if m := reAddNeedTo.FindStringSubmatch(s); m != nil {
		raw, needForm = m[1], true
	} else if m := reAddOnList.FindStringSubmatch(s); m != nil {
		raw = m[1]
	} else if m := reAddVerb.FindStringSubmatch(s); m != nil {
		raw = m[1]
		if mm := reAddToList.FindStringSubmatch(raw); mm != nil {
			raw = mm[1]
		}
		raw = strings.TrimSpace(reAddNoun.ReplaceAllString(raw, ""))
	} else {
		return Intent{}, false
	}
	raw = strings.TrimSpace(raw)
	if m := reNeedRef.FindStringSubmatch(raw); m != nil && needForm {
		// "I still need to do task 3": that task is not done after all.
		if t, ok := targetOf(m[1]); ok {
			return Intent{Kind: KindReopen, Target: t}, true
		}
	}
	var desc string
	if m := reAddDesc.FindStringSubmatch(raw); m != nil {
		raw, desc = m[1], m[2]
	} else if m := reAddDescSuffix.FindStringSubmatch(raw); m != nil {
		raw, desc = m[1], m[2]
	}
	for i := 0; i < 3; i++ {
		raw = strings.TrimSpace(reAddTail.ReplaceAllString(raw, ""))
		raw = strings.TrimSpace(trimTrailPunc(raw))
	}
	title := unquote(raw)
	desc = unquote(trimTrailPunc(desc))
	if title == "" {
		return Intent{Kind: KindAsk, AskFor: KindAdd}, true
	}
	return Intent{Kind: KindAdd, Title: title, Description: desc}, true
}

func parseList(s string) (Intent, bool) {
	lower := strings.ToLower(s)
	if !reListBare.MatchString(s) && !(reListVerb.MatchString(s) && reListNoun.MatchString(s)) &&
		!strings.Contains(lower, "on my plate") && !strings.Contains(lower, "what should i do") &&
		!strings.Contains(lower, "what's next") && !strings.Contains(lower, "whats next") {
		return Intent{}, false
	}
	probe := reTodoList.ReplaceAllString(lower, "list")
	status := "all"
	switch {
	case reStatusPending.MatchString(probe):
		status = "pending"
	case reStatusCompleted.MatchString(probe):
		status = "completed"
	}
	if status != "all" && reStatusAll.MatchString(probe) && !reAllWithStatus.MatchString(probe) {
		status = "all"
	}
	return Intent{Kind: KindList, Status: status}, true
}

// targetOf turns a reference phrase into a Target; false if it names nothing.
func targetOf(phrase string) (Target, bool) {
	p := unquote(strings.TrimSpace(phrase))
	p = strings.TrimSpace(trimTrailPunc(p))
	p = strings.TrimSpace(reLeadPrep.ReplaceAllString(p, ""))
	if p == "" {
		return Target{}, false
	}
	if m := reIDSingle.FindStringSubmatch(p); m != nil {
		if id, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			return Target{IDs: []int64{id}}, true
		}
	}
	if reIDMulti.MatchString(p) {
		var ids []int64
		for _, d := range reDigits.FindAllString(p, -1) {
			if id, err := strconv.ParseInt(d, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		return Target{IDs: ids}, true
	}
	if rePronoun.MatchString(p) {
		return Target{Pronoun: true}, true
	}
	if reAllTarget.MatchString(p) {
		return Target{All: true, Status: "all"}, true
	}
	if m := reAllStatus.FindStringSubmatch(p); m != nil {
		st := "pending"
		switch strings.ToLower(m[1]) {
		case "completed", "done", "finished", "checked", "checked off", "ticked off":
			st = "completed"
		}
		return Target{All: true, Status: st}, true
	}
	if m := reOrdinal.FindStringSubmatch(p); m != nil {
		n := map[string]int{"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
			"fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1, "final": -1}[strings.ToLower(m[1])]
		return Target{Ordinal: n}, true
	}
	if m := reIDInside.FindStringSubmatch(p); m != nil {
		d := m[1]
		if d == "" {
			d = m[2]
		}
		if id, err := strconv.ParseInt(d, 10, 64); err == nil {
			return Target{IDs: []int64{id}}, true
		}
	}
	if len(significant(p)) == 0 {
		return Target{}, false
	}
	return Target{Text: p}, true
}
