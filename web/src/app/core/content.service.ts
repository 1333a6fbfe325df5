import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable } from 'rxjs';

export type Board = 'all' | 'user' | 'mod' | 'admin';

/** The tutorial's test content: plain text from `/api/test/{all,user,mod,admin}`. */
@Injectable({ providedIn: 'root' })
export class ContentService {
  private readonly http = inject(HttpClient);

  board(board: Board): Observable<string> {
    return this.http.get(`/api/test/${board}`, { responseType: 'text' });
  }
}
